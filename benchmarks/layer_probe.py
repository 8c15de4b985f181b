#!/usr/bin/env python
"""Which upstream layers carry emotion: a linear probe per layer, on the LOLO folds' own splits.

For each held-out language's run folder of ``real_multilingual.py lolo`` (its stage-2 train/dev/
zero-shot lists) and the cached upstream states those runs share (``--features``: one upstream's
folder under the runs' ``feature_folder``), every utterance becomes, per layer, the mean and the
standard deviation of its frames (2 × D values). A multinomial logistic regression (features
standardised on the training set, classes balanced, C = 1, nothing tuned) is fitted on the fold's
training utterances and scored:

* **dev** (the figure a choice is made on): the fold's held-in dev speakers, each file alone, each
  corpus's UAR within its own classes, then the mean over corpora (what the LOLO tables report);
* **held out** (reports only): the held-out corpora, the same way.

Rows: each layer alone (0 = the convolutional embeddings), the mean of the layers' pooled vectors
(the equal weighting), and all layers side by side (concatenated). A probe is not the system (no
speaker normalisation, no attention pooling, no training of a head on frames): it ranks layers;
the system's own figures are those of ``real_multilingual.py``.

    python benchmarks/layer_probe.py --runs OUT/whisper_base_frozen_real+select_reported \
        --features OUT/features/<fingerprint> --seed 0

Pooled vectors are computed once and kept in ``--features``/``pooled.npz``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pooled_states(features: Path, dim: int) -> dict:
    """uid → (L, 2 * dim) float32: per layer, the mean and the standard deviation over frames."""
    cache = features / "pooled.npz"
    if cache.exists():
        z = np.load(cache)
        return dict(zip(z["uids"].tolist(), z["pooled"]))
    import kaldiio

    out = {}
    for scp in sorted(features.glob("*/part-*/feats.scp")):
        for uid, m in kaldiio.load_scp_sequential(str(scp)):
            x = np.asarray(m, dtype=np.float32).reshape(m.shape[0], -1, dim)
            out[uid] = np.concatenate([x.mean(0), x.std(0)], axis=1)
    if not out:
        sys.exit(f"{features}: no cached states (*/part-*/feats.scp)")
    uids = sorted(out)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, uids=np.array(uids), pooled=np.stack([out[u] for u in uids]))
    tmp.replace(cache)
    return out


def split(labels: Path, name: str, classes: list) -> tuple[list, np.ndarray, list]:
    """The utterances of one stage-2 list that have a hard label: ids, class indices, corpora."""
    entries = json.loads((labels / f"{name}.json").read_text())
    keep = [(u, e) for u, e in entries.items() if e.get("hard") and not e.get("augment")]
    return ([u for u, _ in keep], np.array([classes.index(e["hard"]) for _, e in keep]),
            [e["corpus"] for _, e in keep])


def corpus_uar(scores, refs, corpora, inventory, classes) -> dict:
    """Each corpus's UAR with predictions restricted to its classes, and their mean."""
    from speechbrain_ser import metrics

    corpora = np.asarray(corpora)
    preds = np.empty(len(refs), dtype=int)
    for c in set(corpora.tolist()):
        mine = corpora == c
        preds[mine] = metrics.restrict(scores[mine], [classes.index(k) for k in inventory[c]])
    per = {c: metrics.mean_corpus_uar(refs[corpora == c], preds[corpora == c], corpora[corpora == c])
           for c in dict.fromkeys(corpora.tolist())}
    return {"mean": metrics.mean_corpus_uar(refs, preds, corpora), **per}


def probe(x_train, y_train, n_classes):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=3000, class_weight="balanced"))
    model.fit(x_train, y_train)

    def score(x):  # log-probabilities over every class (-inf for a class training never had)
        s = np.full((len(x), n_classes), -np.inf)
        s[:, model.classes_] = model.predict_log_proba(x)
        return s
    return score


def fold(run: Path, pooled: dict) -> list:
    labels = run / "data" / "labels"
    summary = json.loads((labels / "summary.json").read_text())
    classes = summary["space"]
    inventory = {c: v["inventory"] for c, v in summary["corpora"].items()}
    train = split(labels, "train", classes)
    dev = split(labels, "dev", classes)
    held = [split(labels, p.stem, classes) for p in sorted(labels.glob("zeroshot_*.json"))]
    held = (sum((h[0] for h in held), []), np.concatenate([h[1] for h in held]), sum((h[2] for h in held), []))
    missing = [u for u in train[0] + dev[0] + held[0] if u not in pooled]
    if missing:
        sys.exit(f"{run}: {len(missing)} utterances have no cached states in --features (e.g. {missing[0]})")
    n_layers = next(iter(pooled.values())).shape[0]
    views = {f"layer {k}": (lambda a, k=k: a[:, k]) for k in range(n_layers)}
    views["mean of layers"] = lambda a: a.mean(1)
    views["all layers, concatenated"] = lambda a: a.reshape(len(a), -1)
    arrays = {name: np.stack([pooled[u] for u in s[0]]) for name, s in (("train", train), ("dev", dev), ("held", held))}
    rows = []
    for name, view in views.items():
        score = probe(view(arrays["train"]), train[1], len(classes))
        rows.append({"view": name, "dev": corpus_uar(score(view(arrays["dev"])), dev[1], dev[2], inventory, classes),
                     "held": corpus_uar(score(view(arrays["held"])), held[1], held[2], inventory, classes)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", required=True, help="a LOLO variant's folder (<lang>_seed<k> run folders)")
    ap.add_argument("--features", required=True, help="the cached states of one upstream (<feature_folder>/<fingerprint>)")
    ap.add_argument("--dim", type=int, default=512, help="the upstream's width")
    ap.add_argument("--seed", type=int, default=0, help="which seed's run folders give the splits")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    pooled = pooled_states(Path(a.features), a.dim)
    print(f"pooled states of {len(pooled)} utterances in {time.perf_counter() - t0:.0f} s", flush=True)
    runs = sorted(Path(a.runs).glob(f"*_seed{a.seed}"))
    if not runs:
        sys.exit(f"{a.runs}: no *_seed{a.seed} run folders")
    table = {}
    for run in runs:
        lang = run.name.split("_seed")[0]
        for r in fold(run, pooled):
            table.setdefault(r["view"], {})[lang] = r
        print(f"fold {lang} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    langs = [r.name.split("_seed")[0] for r in runs]
    print("\n| probe input | " + " | ".join(f"dev ({x} out)" for x in langs) + " | dev mean | held out, lone: "
          + " | ".join(langs) + " | held-out mean |")
    print("|---" * (2 * len(langs) + 3) + "|")
    for view, per in table.items():
        dev = [per[x]["dev"]["mean"] for x in langs]
        held = [per[x]["held"]["mean"] for x in langs]
        print(f"| {view} | " + " | ".join(f"{v:.3f}" for v in dev) + f" | **{np.mean(dev):.3f}** | "
              + " | ".join(f"{v:.3f}" for v in held) + f" | {np.mean(held):.3f} |")
    (Path(a.runs) / f"layer_probe_seed{a.seed}.json").write_text(json.dumps(table, indent=1))
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
