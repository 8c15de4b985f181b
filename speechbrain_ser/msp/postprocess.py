"""CONILIUM's post-processing: per-class offsets tuned on Development to maximise
macro-F1 (coordinate ascent over a grid), applied unchanged to the test sets.

Offsets are added to the head's decision scores (``class_scores.decision_scores``:
log-probabilities, or the raw scores of an MSE head), so zero offsets give the
argmax of the outputs for every head."""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..class_scores import decision_scores
from . import CLASSES


def apply_offsets(outputs: np.ndarray, offsets: np.ndarray, head_output: str) -> np.ndarray:
    return (decision_scores(outputs, head_output) + offsets).argmax(1)


def tune_offsets(outputs, refs, head_output: str, grid=None, rounds=3) -> np.ndarray:
    """Per-class offsets maximising macro-F1 on (outputs, refs). The default grid is
    -3..3 in steps of 0.25 on log-probabilities; on an MSE head's raw scores (about
    the size of a probability) it is scaled by 1/10."""
    if grid is None:
        grid = np.arange(-3, 3.01, 0.25) * (0.1 if head_output == "identity" else 1)
    off = np.zeros(outputs.shape[1])
    scores = decision_scores(outputs, head_output)

    def score(o):
        return metrics.classification(refs, (scores + o).argmax(1), range(len(CLASSES)))["macro_f1"]

    best = score(off)
    for _ in range(rounds):
        improved = False
        for c in range(outputs.shape[1]):
            for g in grid:
                trial = off.copy()
                trial[c] = g
                s = score(trial)
                if s > best + 1e-9:
                    best, off, improved = s, trial, True
        if not improved:
            break
    return off
