"""Stage 4: score the selected checkpoint on the in-domain test set and zero-shot sets.

    python -m speechbrain_ser.evaluate HPARAMS --labels_folder L --data_root D --output_folder O

Writes ``O/results/predictions_<set>.csv``, ``O/results/zero_shot.csv`` (one row
per set × corpus and per set × language, plus an "all" row per set) and
``soft_scores.csv``, each atomically, then the stage marker: rerunning with the
same finished training run and labels does nothing.

Class restriction: a corpus rarely has every class of the unified space (URDU
has 4). Its class inventory is what its labels can be scored as, from the
mapping and the recipe's ``score_as`` (stage 2's ``summary.json``), not from the
classes that happen to occur in a small evaluation set. Predictions are
restricted to the inventory (the other classes' scores are masked before the
argmax, ``metrics.restrict``); F1 averages over the inventory, UAR over the
classes present in the references (``metrics.DEFINITIONS``). Chance level =
1 / #inventory. A group of corpora (a language, "all") uses the union of their
inventories.

Utterances with a soft target but no hard label (EmoDB boredom, MSP-Podcast
contempt under the unified mapping) are predicted but not in the hard-label
metrics; ``soft_scores.csv`` gives, per corpus and native label, the mean
probability mass the model puts on the classes of that label's mapping row
(probabilities renormalised over the inventory), beside the mass a uniform
guess over the inventory would put there.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from . import metrics
from .data import read_entries
from .stage import Stage, write_csv_atomic
from .train import build, make_datasets, stage4_options

METRICS = ["micro_f1", "macro_f1", "uar", "weighted_f1", "accuracy"]


def eval_sets(labels: Path) -> list:
    sets = [("test", labels / "test.json")]
    sets += [(p.stem, p) for p in sorted(labels.glob("zeroshot_*.json"))]
    return [(n, p) for n, p in sets if p.exists()]


def inventories(labels: Path, classes: list) -> dict:
    """corpus -> class indices it can be scored as (stage 2's summary)."""
    summary = read_entries(labels / "summary.json")
    return {c: [classes.index(x) for x in v["inventory"]] for c, v in summary["corpora"].items()}


def score_groups(entries: dict, ids, probs, classes, inventory: dict) -> list:
    """Rows of metrics per corpus, per language and overall, with class restriction."""
    rows = []
    idx = {i: k for k, i in enumerate(ids)}
    groups = {}
    for uid in ids:
        e = entries[uid]
        if e.get("hard") is None:
            continue
        groups.setdefault(("corpus", e["corpus"]), []).append(uid)
        groups.setdefault(("language", e["language"]), []).append(uid)
        groups.setdefault(("all", "all"), []).append(uid)
    for (level, name), uids in sorted(groups.items()):
        refs = np.array([classes.index(entries[u]["hard"]) for u in uids])
        allowed = sorted(set().union(*(inventory[c] for c in {entries[u]["corpus"] for u in uids})))
        preds = metrics.restrict(probs[[idx[u] for u in uids]], allowed)
        m = metrics.classification(refs, preds, allowed)
        rows.append(dict(level=level, name=name, n_classes=len(allowed),
                         classes=" ".join(classes[c] for c in allowed),
                         chance=round(1 / len(allowed), 4), **{k: round(m[k], 4) for k in METRICS}, n=m["n"]))
    return rows


def soft_scores(entries: dict, ids, probs, classes, inventory: dict) -> list:
    """Per corpus and native label without a hard label: mean probability mass on its mapping's classes."""
    groups = {}
    for i, uid in enumerate(ids):
        e = entries[uid]
        if e.get("hard") is None and e.get("native_classes"):
            groups.setdefault((e["corpus"], e["native"], tuple(e["native_classes"])), []).append(i)
    rows = []
    for (corpus, native, cls), rows_i in sorted(groups.items()):
        inv = inventory[corpus]
        p = probs[rows_i][:, inv]
        p = p / p.sum(1, keepdims=True)
        on = [inv.index(classes.index(c)) for c in cls if classes.index(c) in inv]
        rows.append(dict(corpus=corpus, native=native, n=len(rows_i), classes=" ".join(cls),
                         mean_mass=round(float(p[:, on].sum(1).mean()), 4),
                         uniform_mass=round(len(on) / len(inv), 4)))
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    out, options = stage4_options(argv)
    with Stage(out, options, "stage 4 evaluate") as st:
        if st.done:
            print(f"stage 4: {out} is up to date (same training run and labels); nothing to do")
            return
        evaluate(argv, out)


def evaluate(argv, out: Path):
    hp, brain, domains, labels = build(argv, for_training=False)
    key = {f"{hp['select_mode']}_key": hp["select_key"]}
    ckpt = brain.checkpointer.recover_if_possible(**key)
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {hp['save_folder']}: run stage 3 first")
    classes = hp["classes"]
    all_rows, soft_rows = [], []
    sets = dict(eval_sets(labels))
    datasets = make_datasets(hp, brain, sets, domains)
    inventory = inventories(labels, classes)
    for name, path in sets.items():
        entries = read_entries(path)
        ids, probs, _, _ = brain.predict(datasets[name], hp["batch_size"])
        rows = []
        for i, uid in enumerate(ids):
            e = entries[uid]
            rows.append([uid, e["corpus"], e["language"], e["native"], e["hard"] or "",
                         " ".join(classes[c] for c in inventory[e["corpus"]])] + [f"{p:.5f}" for p in probs[i]])
        write_csv_atomic(out / f"predictions_{name}.csv",
                         ["id", "corpus", "language", "native", "ref", "allowed"] + [f"p_{c}" for c in classes], rows)
        all_rows += [{"set": name, **r} for r in score_groups(entries, ids, probs, classes, inventory)]
        soft_rows += [{"set": name, **r} for r in soft_scores(entries, ids, probs, classes, inventory)]
    write_csv_atomic(out / "soft_scores.csv", ["set", "corpus", "native", "n", "classes", "mean_mass", "uniform_mass"],
                     soft_rows)
    write_csv_atomic(out / "zero_shot.csv", ["set", "level", "name", "n", "n_classes", "classes", "chance"] + METRICS,
                     all_rows)
    print(f"checkpoint {ckpt.path.name} ({hp['select_key']}={ckpt.meta.get(hp['select_key'])}); "
          f"wrote {out / 'zero_shot.csv'}")


if __name__ == "__main__":
    main()
