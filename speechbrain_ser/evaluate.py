"""Stage 4 of both recipes: export, predict through the exported model, score.

    python -m speechbrain_ser.evaluate --task zero-shot|msp --train-dir E/train --labels E/data/labels \\
        --data-root D [--model-dir E/model] [--results E/train/results]

1. ``export``: the selected checkpoint → ``--model-dir`` (default ``<train-dir>/../model``).
2. Predict every evaluation set's utterances (all of them, labelled or not) with
   ``inference.EmotionRecognizer`` loaded from that folder: the same code path
   ``ser-predict`` and users take, so the reported numbers are those of the
   artifact users load. One file per set, ``predictions_<set>.csv``: id, corpus,
   language, native (the corpus's label), ref (the hard label scored, empty if
   none), ``p_<class>`` per class, and arousal, valence, dominance (1-7) for
   models with attribute heads.
3. The task's scoring on those files: ``zero_shot.score`` (Multilingual16:
   class restriction, per corpus/language tables) or ``msp.scoring.score``
   (MSP-Podcast: thresholds, metrics, CCC, challenge submissions).

A stage with a marker: rerunning on the same finished training run and labels
does nothing; every file is written atomically.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from .data import read_entries
from .stage import Stage, fingerprint, write_csv_atomic

ATTRIBUTES = ["arousal", "valence", "dominance"]


def task_sets(task: str, labels: Path) -> list:
    if task == "zero-shot":
        from .zero_shot import eval_sets

        return eval_sets(labels)
    from .msp import SETS

    return [s for s in SETS if (labels / f"{s}.json").exists()]


def predict_set(model, entries: dict, data_root: str, batch_size: int = 8):
    """(ids in manifest order, probs (N, C) or None, attributes (N, 3) or None) through the model."""
    ids = list(entries)
    paths = [entries[u]["wav"].replace("{data_root}", str(data_root)) for u in ids]
    texts = [entries[u].get("transcript") or "" for u in ids] \
        if getattr(model.hparams, "needs_transcript", False) else None
    results = [None] * len(ids)
    for i, r in model.predict_files(paths, batch_size, texts):
        if isinstance(r, Exception):
            raise SystemExit(f"stage 4: {r} (utterance {ids[i]})")
        results[i] = r
    probs = np.array([[r["probs"][c] for c in model.classes] for r in results]) if model.classes else None
    attrs = np.array([[r[a] for a in model.attributes] for r in results]) if model.attributes else None
    return ids, probs, attrs


def write_predictions(path: Path, entries: dict, ids, classes, probs, attrs):
    rows = []
    for i, u in enumerate(ids):
        e = entries.get(u, {})
        row = [u, e.get("corpus") or "", e.get("language") or "", e.get("native") or "", e.get("hard") or ""]
        row += [f"{p:.6f}" for p in probs[i]] if probs is not None else []
        row += [f"{x:.4f}" for x in attrs[i]] if attrs is not None else []
        rows.append(row)
    header = ["id", "corpus", "language", "native", "ref"]
    header += [f"p_{c}" for c in classes] if probs is not None else []
    header += ATTRIBUTES if attrs is not None else []
    write_csv_atomic(path, header, rows)


def read_predictions(path: Path):
    """(rows, classes, probs or None, attributes or None) of a predictions file."""
    from .report import read_csv

    rows = read_csv(path)
    cols = list(rows[0]) if rows else []
    classes = [k[2:] for k in cols if k.startswith("p_")]
    probs = np.array([[float(r[f"p_{c}"]) for c in classes] for r in rows]) if classes else None
    attrs = np.array([[float(r[a]) for a in ATTRIBUTES] for r in rows]) if "arousal" in cols else None
    return rows, classes, probs, attrs


def run(task: str, train_dir: Path, labels: Path, data_root: str, model_dir: Path | None = None,
        results: Path | None = None, batch_size: int = 8):
    from .export import export
    from .inference import load

    train_dir = Path(train_dir)
    results = Path(results) if results else train_dir / "results"
    options = {"task": task, "train": fingerprint(train_dir), "labels": fingerprint(labels)}
    with Stage(results, options, "stage 4 evaluate") as st:
        if st.done:
            print(f"stage 4: {results} is up to date (same training run and labels); nothing to do")
            return
        model_dir = export(train_dir, model_dir)
        model = load(model_dir)  # a local folder: SpeechBrain reads its files in place
        predictions = {}
        for name in task_sets(task, labels):
            entries = read_entries(labels / f"{name}.json")
            ids, probs, attrs = predict_set(model, entries, data_root, batch_size)
            write_predictions(results / f"predictions_{name}.csv", entries, ids, model.classes, probs, attrs)
            predictions[name] = (ids, probs, attrs)
            print(f"stage 4: predicted {len(ids)} utterances of {name} with {model_dir}")
        if task == "zero-shot":
            from .zero_shot import score
        else:
            from .msp.scoring import score
        print(f"stage 4: wrote {score(results, labels, predictions)}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--task", required=True, choices=["zero-shot", "msp"])
    ap.add_argument("--train-dir", required=True, type=Path)
    ap.add_argument("--labels", required=True, type=Path, help="stage-2 labels folder")
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--model-dir", type=Path, default=None, help="default: <train-dir>/../model")
    ap.add_argument("--results", type=Path, default=None, help="default: <train-dir>/results")
    ap.add_argument("--batch-size", type=int, default=8)
    a = ap.parse_args(argv)
    run(a.task, a.train_dir, a.labels, a.data_root, a.model_dir, a.results, a.batch_size)


if __name__ == "__main__":
    main()
