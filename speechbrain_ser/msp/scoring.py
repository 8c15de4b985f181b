"""Stage 4's MSP-Podcast scoring of the predictions the exported model made.

For every ``predictions_<set>.csv`` in the results folder (and, for a speaker-normalised model,
every ``speaker/predictions_<set>.csv``: each row of ``msp_metrics.csv`` names its ``mode``):
thresholds tuned on Development (``thresholds.json``), metrics with argmax and with the tuned
thresholds (``msp_metrics.csv``: macro/micro/weighted F1, accuracy, UAR over the
8 classes; CCC per attribute on the 1-7 scale and their mean, the references
mapped from each corpus's own scale), and the challenge
submission files. Utterances without a hard label (O/X, Test3) are predicted and
submitted but not scored.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import metrics
from ..export import ATTRIBUTE_SCALE
from ..prediction_files import MODES, prediction_file, read_head_output, read_predictions as read
from ..stage import read_entries, write_csv_atomic, write_json_atomic
from . import CAT, CLASSES, SETS
from .postprocess import apply_offsets, tune_offsets
from .submissions import write_submissions


def labelled(entries, ids):
    return np.array([CLASSES.index(entries[u]["hard"]) if entries[u].get("hard") in CLASSES else -1
                     for u in ids])


def score_set(entries, ids, probs, avd, offsets=None, head_output: str = "softmax") -> dict:
    out = {}
    refs = labelled(entries, ids)
    keep = refs >= 0
    if probs is not None and keep.any():
        preds = probs.argmax(1) if offsets is None else apply_offsets(probs, offsets, head_output)
        out.update(metrics.classification(refs[keep], preds[keep], range(len(CLASSES))))
    if avd is not None:
        lo, hi = ATTRIBUTE_SCALE  # the model's output scale; gold from each corpus's own scale via avd01
        gold = np.array([[lo + (hi - lo) * x for x in entries[u]["avd01"]] if entries[u].get("avd01") else
                         [np.nan] * 3 for u in ids], float)
        ok = np.isfinite(gold).all(1)
        if ok.sum() > 1:
            c = [metrics.ccc(avd[ok, i], gold[ok, i]) for i in range(3)]
            out.update(ccc_a=c[0], ccc_v=c[1], ccc_d=c[2], ccc_mean=float(np.mean(c)))
    return out


def read_predictions(path: Path):
    """(ids, probs over CLASSES or None, A/V/D or None) of a predictions file."""

    rows, classes, probs, attrs = read(path)
    if probs is not None and classes != CLASSES:
        raise SystemExit(f"{path}: classes {classes} are not MSP-Podcast's {CLASSES}")
    return [r["id"] for r in rows], probs, attrs


def metrics_rows(results: Path, labels: Path) -> list:
    """Score every predictions file in ``results`` (raw and with thresholds tuned on dev), per scoring
    mode (``prediction_files.MODES``: thresholds are tuned on the same mode's dev predictions,
    ``thresholds.json`` for lone, ``thresholds_<mode>.json`` otherwise). The challenge submission
    files are made from the lone predictions (each file alone)."""

    rows = []
    head_output = read_head_output(results)
    for mode in MODES:
        offsets = None
        dev_path = prediction_file(results, "dev", mode)
        if dev_path.exists():
            ids, probs, _ = read_predictions(dev_path)
            refs = labelled(read_entries(labels / "dev.json"), ids)
            if probs is not None and (refs >= 0).any():
                offsets = tune_offsets(probs[refs >= 0], refs[refs >= 0], head_output)
                write_json_atomic(results / ("thresholds.json" if mode == "lone" else f"thresholds_{mode}.json"),
                                  dict(zip(CLASSES, offsets.tolist())))
        for name in SETS:
            p = prediction_file(results, name, mode)
            if not p.exists():
                continue
            ids, probs, avd = read_predictions(p)
            entries = read_entries(labels / f"{name}.json")
            for tuned in (False, True):
                if tuned and (offsets is None or probs is None):
                    continue
                s = score_set(entries, ids, probs, avd if not tuned else None, offsets if tuned else None,
                              head_output)
                if s:
                    rows.append({"mode": mode, "set": name, "thresholds": "tuned on dev" if tuned else "argmax",
                                 **{k: round(v, 4) for k, v in s.items() if k != "n"}, "n": s.get("n", len(ids))})
            if mode == "lone":
                write_submissions(results, name, ids, probs, avd, offsets if offsets is not None else np.zeros(8),
                                  head_output)
    return rows


def write_metrics(results: Path, rows: list):
    fields = ["mode", "set", "thresholds", "n"] + CAT + ["ccc_a", "ccc_v", "ccc_d", "ccc_mean"]
    write_csv_atomic(results / "msp_metrics.csv", fields, [{k: r.get(k, "") for k in fields} for r in rows])


def score(results: Path, labels: Path, predictions: dict | None = None) -> Path:
    """Stage 4's scoring step (reads the predictions files stage 4 just wrote)."""
    write_metrics(results, metrics_rows(results, labels))
    return results / "msp_metrics.csv"
