"""Stage 4: score the selected checkpoint on the in-domain test set and zero-shot sets.

    python -m speechbrain_ser.evaluate HPARAMS --labels_folder L --data_root D --output_folder O

Writes ``O/results/predictions_<set>.csv`` and ``O/results/zero_shot.csv`` (one row
per set × corpus and per set × language, plus an "all" row per set).

Zero-shot class restriction: a held-out corpus rarely has every class of the
unified space (URDU has 4). Predictions are restricted to the classes that
occur as hard labels in that corpus's evaluation set: the other classes'
scores are masked before the argmax (``metrics.restrict``), and every metric
averages over that corpus's classes only. Chance level = 1 / #classes.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from . import metrics
from .data import read_entries
from .train import build, make_datasets

METRICS = ["micro_f1", "macro_f1", "uar", "weighted_f1", "accuracy"]


def eval_sets(labels: Path) -> list:
    sets = [("test", labels / "test.json")]
    sets += [(p.stem, p) for p in sorted(labels.glob("zeroshot_*.json"))]
    return [(n, p) for n, p in sets if p.exists()]


def score_groups(entries: dict, ids, probs, classes) -> list:
    """Rows of metrics per corpus, per language and overall, with class restriction."""
    rows = []
    idx = {i: k for k, i in enumerate(ids)}
    groups = {}
    for uid in ids:
        e = entries[uid]
        groups.setdefault(("corpus", e["corpus"]), []).append(uid)
        groups.setdefault(("language", e["language"]), []).append(uid)
        groups.setdefault(("all", "all"), []).append(uid)
    for (level, name), uids in sorted(groups.items()):
        refs = np.array([classes.index(entries[u]["hard"]) for u in uids])
        allowed = sorted(set(refs.tolist()))
        preds = metrics.restrict(probs[[idx[u] for u in uids]], allowed)
        m = metrics.classification(refs, preds, allowed)
        rows.append(dict(level=level, name=name, n_classes=len(allowed),
                         classes=" ".join(classes[c] for c in allowed),
                         chance=round(1 / len(allowed), 4), **{k: round(m[k], 4) for k in METRICS}, n=m["n"]))
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    hp, brain, domains, labels = build(argv, for_training=False)
    key = {f"{hp['select_mode']}_key": hp["select_key"]}
    ckpt = brain.checkpointer.recover_if_possible(**key)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {hp['save_folder']}: run stage 3 first")
    out = Path(hp["output_folder"]) / "results"
    out.mkdir(parents=True, exist_ok=True)
    classes = hp["classes"]
    all_rows = []
    sets = dict(eval_sets(labels))
    datasets = make_datasets(hp, brain, sets, domains)
    for name, path in sets.items():
        entries = {k: v for k, v in read_entries(path).items() if v.get("hard") is not None}
        ids, probs, _, _ = brain.predict(datasets[name], hp["batch_size"])
        with open(out / f"predictions_{name}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["id", "corpus", "language", "ref"] + [f"p_{c}" for c in classes])
            for i, uid in enumerate(ids):
                e = entries[uid]
                w.writerow([uid, e["corpus"], e["language"], e["hard"]] + [f"{p:.5f}" for p in probs[i]])
        for r in score_groups(entries, ids, probs, classes):
            all_rows.append({"set": name, **r})
    fields = ["set", "level", "name", "n", "n_classes", "classes", "chance"] + METRICS
    tmp = out / "zero_shot.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(all_rows)
    tmp.replace(out / "zero_shot.csv")
    print(f"checkpoint {ckpt.path.name} ({hp['select_key']}={ckpt.meta.get(hp['select_key'])}); "
          f"wrote {out / 'zero_shot.csv'}")


if __name__ == "__main__":
    main()
