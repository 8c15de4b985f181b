"""Classification and regression metrics (scikit-learn underneath; definitions in ``DEFINITIONS``).

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


DEFINITIONS = {
    "micro_f1": "micro-F1 over the task's class set (equals accuracy when every prediction is in that set)",
    "macro_f1": "unweighted mean of per-class F1 over the classes present in the references: a class "
                "of the set that no reference has adds no term, a prediction of it still counts as an "
                "error of the reference's class. Not scikit-learn's default (the mean over references ∪ "
                "predictions), under which a class that is only predicted adds an F1 of 0, so the score "
                "would depend on which wrong classes the model happens to name; averaging over the "
                "references' classes keeps macro-F1 and UAR over the same classes",
    "weighted_f1": "per-class F1 averaged with the reference counts as weights",
    "uar": "unweighted average recall: mean recall over the classes present in the references "
           "(a class that is only predicted adds no term)",
    "accuracy": "share of utterances whose prediction equals the reference",
    "chance_uar": "UAR of a uniformly random guess over the class set: 1 / #classes (chance for UAR only)",
    "majority": "the majority-class baseline: every utterance predicted as the most frequent reference "
                "class of the set (its accuracy is that class's share; its UAR is 1 / #classes present)",
}


def classification(refs, preds, labels) -> dict:
    """Hard-label metrics (definitions in ``DEFINITIONS``) for the task's class set ``labels``.

    ``labels`` is required: scikit-learn's default (references ∪ predictions) would let a
    class that is only predicted lower UAR and macro-F1.
    """
    refs, preds = np.asarray(refs), np.asarray(preds)
    labels = list(labels)
    present = sorted(set(refs.tolist()))
    if not set(present) <= set(labels):
        raise ValueError(f"references hold classes {sorted(set(present) - set(labels))} outside the class set")
    kw = dict(labels=labels, zero_division=0)
    return dict(
        micro_f1=float(f1_score(refs, preds, average="micro", **kw)),
        macro_f1=float(f1_score(refs, preds, labels=present, average="macro", zero_division=0)),
        weighted_f1=float(f1_score(refs, preds, average="weighted", **kw)),
        uar=float(recall_score(refs, preds, labels=present, average="macro", zero_division=0)),
        accuracy=float(accuracy_score(refs, preds)),
        n=int(len(refs)),
    )


def mean_corpus_uar(refs, preds, corpora) -> float:
    """The mean over corpora of each corpus's UAR (``corpora``: each utterance's corpus; ``preds``
    already restricted to its corpus's classes): every corpus counts once, however large. NaN when
    no utterance has a reference."""
    refs, preds, corpora = np.asarray(refs), np.asarray(preds), np.asarray(corpora)
    uars = [classification(refs[corpora == c], preds[corpora == c], sorted(set(refs[corpora == c].tolist())
                                                                              | set(preds[corpora == c].tolist())))["uar"]
            for c in dict.fromkeys(corpora.tolist())]
    return float(np.mean(uars)) if uars else float("nan")


def majority_baseline(refs, labels) -> dict:
    """``classification`` of the majority-class baseline: every utterance predicted as the most
    frequent reference class (the lowest class index on a tie)."""
    refs = np.asarray(refs)
    values, counts = np.unique(refs, return_counts=True)
    return classification(refs, np.full_like(refs, values[counts.argmax()]), labels)


def ccc(pred, gold) -> float:
    """The concordance correlation coefficient of one attribute (``losses.ccc``, in float64)."""
    import torch

    from .losses import ccc as ccc_columns

    as_column = lambda x: torch.as_tensor(np.asarray(x, float)).reshape(-1, 1)  # noqa: E731
    return float(ccc_columns(as_column(pred), as_column(gold))[0])


def mean_std(vals, digits: int = 3) -> str:
    """"mean ± sample std" (n - 1 in the denominator; no std for a single value)."""
    vals = np.asarray(vals, float)
    if len(vals) == 0:
        return "-"
    sd = f"{vals.std(ddof=1):.{digits}f}" if len(vals) > 1 else "n/a"
    return f"{vals.mean():.{digits}f} ± {sd}"


def confusion_by_cluster(refs, preds, labels, clusters=None) -> tuple[np.ndarray, str]:
    """(K, C, C) confusion counts per cluster (rows: reference, columns: prediction, over ``labels``)
    and the unit: clusters are the speakers (``clusters``, one id or None per utterance; None = an
    utterance of an unknown speaker, its own cluster) or, with ``clusters`` None, the utterances."""
    labels = list(labels)
    index = {c: i for i, c in enumerate(labels)}
    r = np.array([index[x] for x in np.asarray(refs).tolist()])
    p = np.array([index.get(x, -1) for x in np.asarray(preds).tolist()])
    if clusters is None:
        keys, unit = list(range(len(r))), "utterance"
    else:
        keys = [c if c is not None else ("utt", i) for i, c in enumerate(clusters)]
        unit = "speaker"
    ids = {k: j for j, k in enumerate(dict.fromkeys(keys))}
    k = np.array([ids[x] for x in keys])
    conf = np.zeros((len(ids), len(labels), len(labels) + 1))  # last column: a prediction outside labels
    np.add.at(conf, (k, r, np.where(p < 0, len(labels), p)), 1)
    return conf, unit


def from_confusion(conf: np.ndarray, metric: str) -> np.ndarray:
    """``metric`` (uar, accuracy, macro_f1: ``DEFINITIONS``) of confusion matrices (..., C, C[+1])."""
    c = conf.shape[-2]
    diag = np.diagonal(conf[..., :c], axis1=-2, axis2=-1)
    rows = conf.sum(-1)
    present = rows > 0
    if metric == "accuracy":
        return diag.sum(-1) / np.maximum(rows.sum(-1), 1)
    if metric == "uar":
        return np.where(present, diag / np.maximum(rows, 1), 0).sum(-1) / np.maximum(present.sum(-1), 1)
    if metric == "macro_f1":
        cols = conf[..., :c].sum(-2)
        f1 = np.where(present, 2 * diag / np.maximum(rows + cols, 1), 0)
        return f1.sum(-1) / np.maximum(present.sum(-1), 1)
    raise ValueError(f"unknown metric {metric!r} (uar, accuracy, macro_f1)")


def bootstrap_values(refs, preds, labels, clusters=None, metric: str = "uar", n: int = 1000,
                     seed: int = 0) -> tuple[np.ndarray, str]:
    """(``n`` bootstrap values of ``metric``, unit). A cluster bootstrap: each resample draws as many
    clusters as there are, with replacement, and keeps all utterances of each drawn cluster (speakers
    when ``clusters`` gives them: a test set of 5 actors varies by actor, not by utterance)."""
    conf, unit = confusion_by_cluster(refs, preds, labels, clusters)
    return _resampled(conf, metric, n, seed), unit


def _resampled(conf: np.ndarray, metric: str, n: int, seed: int) -> np.ndarray:
    """``n`` values of ``metric`` over resamples of the clusters of ``conf`` (K, C, C[+1])."""
    rng = np.random.default_rng(seed)
    k = conf.shape[0]
    draws = rng.integers(0, k, size=(n, k))
    weights = np.zeros((n, k))
    np.add.at(weights, (np.repeat(np.arange(n), k), draws.ravel()), 1)
    summed = (weights @ conf.reshape(k, -1)).reshape(n, *conf.shape[1:])
    return from_confusion(summed, metric)


# The fewest clusters (speakers) an interval is computed from: resampling 1-4 speakers gives a handful of
# distinct values (one speaker: a zero-width "interval"; two: three values), not a sampling distribution.
MIN_CLUSTERS = 5


def bootstrap_interval(refs, preds, labels, clusters=None, metric: str = "uar", n: int = 1000,
                       seed: int = 0, level: float = 0.95) -> tuple[float, float, str]:
    """(low, high, unit) of the percentile interval of ``bootstrap_values``; (nan, nan, unit) when the
    set has fewer than ``MIN_CLUSTERS`` clusters (``interval_text`` prints it as no interval)."""
    conf, unit = confusion_by_cluster(refs, preds, labels, clusters)
    if conf.shape[0] < MIN_CLUSTERS:
        return float("nan"), float("nan"), unit
    vals = _resampled(conf, metric, n, seed)
    a = (1 - level) / 2 * 100
    return float(np.percentile(vals, a)), float(np.percentile(vals, 100 - a)), unit


def interval_text(low: float, high: float, n_clusters: int | None = None, digits: int = 3) -> str:
    """``[low, high]`` (``digits`` decimals), or what stands in for an interval not computed: NaN
    bounds, or fewer than ``MIN_CLUSTERS`` clusters (``n_clusters``, when given: bounds stored before
    the minimum held)."""
    if np.isfinite(low) and np.isfinite(high) and (n_clusters is None or n_clusters >= MIN_CLUSTERS):
        return f"[{low:.{digits}f}, {high:.{digits}f}]"
    n = f"{n_clusters} speakers: " if n_clusters is not None else ""
    return f"(no interval: {n}fewer than {MIN_CLUSTERS})"
