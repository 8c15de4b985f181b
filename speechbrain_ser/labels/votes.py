"""Aggregating annotator votes into hard labels, soft targets and agreement.

Definitions follow CONILIUM (Shamsi et al., Odyssey 2024, Fig. 2 and §3.5):

* majority: the primary label chosen by most annotators; a tie for the top
  count gives ``NO_AGREEMENT`` ("X" in MSP-Podcast).
* P: the distribution of primary votes over the label space.
* S: the distribution of *secondary* votes (each annotator's list of every
  emotion perceived), every listed class counting once; "Other" is dropped.
* P*: utterances where at least 60% of annotators chose the same primary.
* S*: utterances where one class holds at least 50% of the secondary votes.

Krippendorff's alpha: Krippendorff (2011), "Computing Krippendorff's alpha-reliability", from the
coincidence matrix of per-unit value counts (nominal for categories, interval for attributes,
ordinal on request). The ``krippendorff`` package (GPL) is not a dependency; the tests check this
against it and against the paper's worked example.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

NO_AGREEMENT = "X"
OTHER = "O"


def shares(primary) -> list:
    """[(category, weight)] of one annotator's primary vote: a category (weight 1), or an
    unranked list of categories (IEMOCAP evaluators may tick several on one line): the
    annotator's one vote is split equally over them."""
    if isinstance(primary, (list, tuple)):
        return [(c, 1.0 / len(primary)) for c in primary]
    return [(primary, 1.0)]


def majority(primaries: Sequence[str]) -> str:
    """Most frequent primary vote; ``NO_AGREEMENT`` on a tie for first place."""
    if not primaries:
        raise ValueError("no votes")
    counts = Counter(primaries).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return NO_AGREEMENT
    return counts[0][0]


def _distribution(votes: Iterable[str], classes: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    vec = np.zeros(len(classes))
    for v in votes:
        if v in index:
            vec[index[v]] += 1
    total = vec.sum()
    return vec / total if total > 0 else vec


def primary_distribution(primaries: Sequence, classes: Sequence[str]) -> np.ndarray:
    """P: share of annotators whose primary vote is each class (a split vote, a list of
    categories, counts 1/k for each of its k categories; ``shares``).

    Votes outside ``classes`` (e.g. "Other") are dropped before normalising.
    An all-zero vector means no vote fell inside the space.
    """
    index = {c: i for i, c in enumerate(classes)}
    vec = np.zeros(len(classes))
    for p in primaries:
        for c, w in shares(p):
            if c in index:
                vec[index[c]] += w
    total = vec.sum()
    return vec / total if total > 0 else vec


def secondary_distribution(
    secondaries: Sequence[Iterable[str]], classes: Sequence[str], ignore=(OTHER,)
) -> np.ndarray:
    """S: every class listed by every annotator counts once, "Other" dropped."""
    pooled = [v for lst in secondaries for v in set(lst) if v not in ignore]
    return _distribution(pooled, classes)


def primary_agreement(primaries: Sequence[str]) -> float:
    """Share of annotators agreeing with the most frequent primary vote."""
    return Counter(primaries).most_common(1)[0][1] / len(primaries)


def high_agreement_p(primaries: Sequence[str], threshold: float = 0.6) -> bool:
    """Member of P*: at least ``threshold`` of annotators share the primary."""
    return primary_agreement(primaries) >= threshold - 1e-12


def high_agreement_s(s_target: np.ndarray, threshold: float = 0.5) -> bool:
    """Member of S*: one class holds at least ``threshold`` of secondary votes."""
    return bool(s_target.sum() > 0 and s_target.max() >= threshold - 1e-12)


def normalised_entropy(dist: np.ndarray) -> float:
    """Entropy of a distribution divided by log(#classes): 0 = unanimous, 1 = uniform."""
    p = dist[dist > 0]
    if len(dist) < 2 or p.size == 0:
        return 0.0
    return float(-(p * np.log(p)).sum() / np.log(len(dist)))


def krippendorff_alpha(units: Sequence[dict], level: str = "nominal") -> float:
    """Krippendorff's alpha over a set of utterances.

    ``units`` holds one mapping annotator-id → value per utterance (categorical
    codes for ``nominal``, numbers for ``interval``). Computed from per-unit value
    counts (units × distinct values), never an annotators × units matrix, so the
    real MSP-Podcast (≥ 150k utterances, ≥ 10k workers) fits in memory and
    seconds; annotator identity does not enter alpha.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"level {level!r}: want nominal, ordinal or interval")
    domain = sorted({v for u in units for v in u.values()}, key=lambda v: (level != "nominal" and float(v), str(v)))
    index = {v: i for i, v in enumerate(domain)}
    rows = np.repeat(np.arange(len(units)), [len(u) for u in units])
    cols = np.fromiter((index[v] for u in units for v in u.values()), dtype=np.int64, count=len(rows))
    counts = np.zeros((len(units), len(domain)))
    np.add.at(counts, (rows, cols), 1)
    counts = counts[counts.sum(1) >= 2]  # a unit coded once has no pair: it does not enter alpha
    if not len(counts):
        raise ValueError("no unit has two or more values: alpha is undefined")
    weights = counts / (counts.sum(1, keepdims=True) - 1)
    coincidence = weights.T @ counts - np.diag(weights.sum(0))  # pairable values, c with k
    n_v = coincidence.sum(1)
    n = n_v.sum()
    if level == "nominal":
        delta = 1.0 - np.eye(len(domain))
    elif level == "interval":
        v = np.array([float(x) for x in domain])
        delta = (v[:, None] - v[None, :]) ** 2
    else:  # ordinal: the ranks between the two values, each half-counting its ends
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        g = cum[1:] - n_v / 2  # rank midpoint of each value
        delta = (g[:, None] - g[None, :]) ** 2
    expected = (n_v[:, None] * n_v[None, :] * delta).sum() / (n - 1)
    if expected == 0:
        raise ValueError("every value is the same: alpha is undefined")
    return float(1.0 - (coincidence * delta).sum() / expected)
