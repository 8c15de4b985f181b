"""Classification and regression metrics, computed by scikit-learn.

``restrict`` implements zero-shot scoring on a corpus with fewer classes than
the label space: logits of classes the corpus does not have are set to -inf
before the argmax, so the model can only answer with that corpus's classes.
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, recall_score


def restrict(scores: np.ndarray, allowed: list) -> np.ndarray:
    """Argmax over the ``allowed`` class indices only."""
    masked = np.full_like(scores, -np.inf, dtype=float)
    masked[:, allowed] = scores[:, allowed]
    return masked.argmax(1)


def classification(refs, preds, labels=None) -> dict:
    """micro/macro/weighted F1, UAR (macro recall) and accuracy over ``labels``."""
    kw = dict(labels=labels, zero_division=0)
    return dict(
        micro_f1=float(f1_score(refs, preds, average="micro", **kw)),
        macro_f1=float(f1_score(refs, preds, average="macro", **kw)),
        weighted_f1=float(f1_score(refs, preds, average="weighted", **kw)),
        uar=float(recall_score(refs, preds, average="macro", **kw)),
        accuracy=float(accuracy_score(refs, preds)),
        n=int(len(refs)),
    )


def ccc(pred, gold) -> float:
    pred, gold = np.asarray(pred, float), np.asarray(gold, float)
    pm, gm = pred.mean(), gold.mean()
    cov = ((pred - pm) * (gold - gm)).mean()
    return float(2 * cov / (pred.var() + gold.var() + (pm - gm) ** 2))
