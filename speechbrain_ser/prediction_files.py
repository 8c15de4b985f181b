"""Stage 4's prediction files: ``predictions_<set>.csv`` (id, corpus, language, native,
ref, one column per class, arousal/valence/dominance) and ``outputs.json`` beside them,
which says what the class columns are (``class_scores``: softmax probabilities, sigmoid
scores or the raw scores of an MSE head). Read by the scoring of both recipes, the
ensembles and the reports.

Scoring modes (``MODES``): ``lone`` files (``predictions_<set>.csv``) hold what the model gives
each file alone, as ``ser-predict FILE`` does; a speaker-normalised model also has ``speaker``
files (``speaker/predictions_<set>.csv``), each file normalised with the statistics of all of its
speaker's files in the set, itself included: transductive."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .export import ATTRIBUTES
from .stage import read_csv, read_entries, write_csv_atomic, write_json_atomic


MODES = {
    "lone": "each file alone, as `ser-predict FILE` gives it (a speaker-normalised model uses its "
            "training statistics)",
    "speaker": "transductive: each file normalised with the statistics of all of its speaker's files in the "
               "set, itself included (needs a batch of the speaker's audio spanning their emotions; "
               "`ser-predict --groups`)",
}


def prediction_file(results: Path, name: str, mode: str = "lone") -> Path:
    """Where stage 4 writes set ``name``'s predictions in ``mode`` (``MODES``)."""
    if mode not in MODES:
        raise ValueError(f"unknown scoring mode {mode!r} (have {', '.join(MODES)})")
    return Path(results) / f"predictions_{name}.csv" if mode == "lone" else Path(results) / mode / f"predictions_{name}.csv"


def modes_of(model) -> list:
    """The scoring modes of a loaded model: ``lone``, and ``speaker`` for a speaker-normalised one."""
    return ["lone", "speaker"] if model.speaker_normalised else ["lone"]


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


def write_head_output(results: Path, head_output: str):
    """``outputs.json`` beside the predictions files: what their class columns are
    (``class_scores``: softmax probabilities, sigmoid scores or raw MSE scores)."""
    write_json_atomic(results / "outputs.json", {"head_output": head_output})


def read_head_output(results: Path) -> str:
    path = results / "outputs.json"
    if not path.exists():
        raise SystemExit(f"{path}: not found; stage 4 writes it beside the predictions files (rerun stage 4)")
    return read_entries(path)["head_output"]


def read_predictions(path: Path):
    """(rows, classes, probs or None, attributes or None) of a predictions file."""
    rows = read_csv(path)
    cols = list(rows[0]) if rows else []
    classes = [k[2:] for k in cols if k.startswith("p_")]
    probs = np.array([[float(r[f"p_{c}"]) for c in classes] for r in rows]) if classes else None
    attrs = np.array([[float(r[a]) for a in ATTRIBUTES] for r in rows]) if "arousal" in cols else None
    return rows, classes, probs, attrs
