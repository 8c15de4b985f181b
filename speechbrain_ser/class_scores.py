"""What a categorical head's outputs mean, one definition per ``head_output``.

A head is read through the output function its loss trained (``losses.OUTPUTS``):

* ``softmax``: probabilities (cross-entropy family, KLD, MSE after softmax);
* ``sigmoid``: one-vs-rest scores in (0, 1) that need not sum to 1 (BCE family);
* ``identity``: raw scores of a head trained with plain MSE on soft targets
  (Halmai & Gosztolya): any real numbers, near a distribution only on average.

Two views of those outputs are used downstream, and nothing else re-derives them:

``decision_scores``
    The scale on which per-class offsets (CONILIUM's threshold tuning) are added
    before the argmax: log p for softmax and sigmoid outputs, the raw score itself
    for MSE heads (their outputs can be above 1 or below 0, where a log is undefined
    or clipped flat). Both maps are monotone, so with zero offsets the decision is
    the argmax of the outputs, whatever the head.

``distribution``
    A distribution over the classes, for calibration measures, soft scores and
    timelines: softmax outputs as they are; sigmoid scores divided by their sum
    (positive); MSE scores projected onto the probability simplex (the closest
    distribution in squared error, which is what an MSE head approximates; Duchi et
    al. 2008, "Efficient projections onto the l1-ball"). The projection keeps the
    order of the scores, so the argmax is unchanged, and it is defined for any
    input (no division by a sum that can be 0).

``balance_offsets``
    Transductive prior correction for a new corpus (opt-in, reported beside the plain
    scores, never instead of them): per-class offsets on the log-distribution such that
    the model's mean predicted distribution over a whole *unlabelled* evaluation set is
    uniform over its classes. A model that sees every utterance of an unseen corpus as,
    say, neutral keeps its ranking of the utterances but its bias goes; the
    logit-adjustment idea used for cross-corpus SER evaluation by Osman et al. (2024,
    "SER Evals", arXiv 2408.07851), with the target's class prior assumed uniform. The
    decision for one utterance then depends on the others of its set.

``restricted_log_probs`` / ``restricted_decisions``
    A corpus scored on fewer classes than the model has (class restriction: a zero-shot corpus's
    inventory): the distribution renormalised over its classes, and each utterance's decision
    among them, plainly or after ``balance_offsets``. Stage 4 (``zero_shot.py``) and the
    benchmarks use these, nothing else.
"""
from __future__ import annotations

import numpy as np

HEAD_OUTPUTS = ("softmax", "sigmoid", "identity")


def _check(head_output: str):
    if head_output not in HEAD_OUTPUTS:
        raise ValueError(f"unknown head_output '{head_output}' (known: {', '.join(HEAD_OUTPUTS)})")


def decision_scores(outputs: np.ndarray, head_output: str) -> np.ndarray:
    """Scores to which threshold offsets are added (see the module docstring)."""
    _check(head_output)
    outputs = np.asarray(outputs, float)
    if head_output == "identity":
        return outputs
    return np.log(np.clip(outputs, 1e-12, 1))


def simplex_projection(x: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean projection onto {p >= 0, sum p = 1} (sort-based, Duchi et al. 2008)."""
    x = np.atleast_2d(np.asarray(x, float))
    u = -np.sort(-x, axis=1)
    css = np.cumsum(u, axis=1) - 1
    k = np.arange(1, x.shape[1] + 1)
    rho = (u - css / k > 0).sum(1)  # always >= 1
    tau = css[np.arange(len(x)), rho - 1] / rho
    return np.maximum(x - tau[:, None], 0)


def balance_offsets(log_p: np.ndarray, iterations: int = 500, tol: float = 1e-9) -> np.ndarray:
    """Offsets b (C,) with mean_i softmax(log_p_i + b) = 1/C (fixed point b <- b - log(C * mean));
    ``log_p`` (N, C) are log-distributions over the evaluation set's classes."""
    b = np.zeros(log_p.shape[1])
    for _ in range(iterations):
        z = log_p + b
        q = np.exp(z - z.max(1, keepdims=True))
        q /= q.sum(1, keepdims=True)
        step = np.log(q.mean(0) * log_p.shape[1])
        b -= step
        if np.abs(step).max() < tol:
            break
    return b - b.mean()


def restricted_log_probs(dist: np.ndarray, allowed: list) -> np.ndarray:
    """(N, len(allowed)): the log of each row of ``dist`` (N, C) renormalised over the class
    indices ``allowed``."""
    logp = np.log(np.clip(np.asarray(dist, float)[:, allowed], 1e-12, None))
    return logp - np.log(np.exp(logp).sum(1, keepdims=True))


def restricted_decisions(dist: np.ndarray, allowed: list, balanced: bool = False) -> np.ndarray:
    """(N,): the class index (a column of ``dist``) each row is decided as among ``allowed``: the
    argmax, or with ``balanced`` after ``balance_offsets`` fitted on all the rows (transductive)."""
    logp = restricted_log_probs(dist, allowed)
    if balanced:
        logp = logp + balance_offsets(logp)
    return np.asarray(allowed)[logp.argmax(1)]


def distribution(outputs: np.ndarray, head_output: str) -> np.ndarray:
    """A distribution over the classes per row (see the module docstring)."""
    _check(head_output)
    outputs = np.asarray(outputs, float)
    if head_output == "softmax":
        return outputs
    if head_output == "sigmoid":
        return outputs / outputs.sum(-1, keepdims=True)
    return simplex_projection(outputs.reshape(-1, outputs.shape[-1])).reshape(outputs.shape)
