"""Calibration of class probabilities: measures and temperature scaling.

* ``ece``: top-label expected calibration error with 15 equal-width confidence bins
  (Guo et al. 2017): bins (0, 1/15], (1/15, 2/15], ...; ECE = sum over bins of
  (share of utterances in the bin) x |accuracy in the bin - mean confidence in the bin|.
* ``nll``: mean negative log-likelihood of the reference class (natural log).
* ``brier``: multi-class Brier score, mean over utterances of sum_c (p_c - [c = ref])^2 (0 to 2).
* ``mean_jsd``: mean Jensen-Shannon divergence (base 2, 0 to 1) between the predicted
  distribution and the annotators' distribution (MSP-Podcast P/S votes, IEMOCAP votes).
* ``fit_temperature``: one scalar T > 0 minimising the development NLL of
  softmax(log p / T) (temperature scaling of the logits; log p differs from the
  logits by a per-utterance constant, which softmax ignores). T never changes the argmax.

Temperature scaling applies to softmax heads only; sigmoid (BCE-trained) heads are
one-vs-rest probabilities and are left as they are.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.spatial.distance import jensenshannon

from .stage import save_figure_atomic

N_BINS = 15
DEFINITIONS = {
    "ece": f"top-label expected calibration error, {N_BINS} equal-width confidence bins",
    "nll": "mean negative log-likelihood of the reference class (nats)",
    "brier": "multi-class Brier score: mean of sum over classes of (p - one-hot reference)^2",
    "jsd": "mean Jensen-Shannon divergence (base 2) between predicted and annotators' distributions",
}


def reliability(probs: np.ndarray, refs: np.ndarray, n_bins: int = N_BINS):
    """Per non-empty confidence bin (0, 1/n], (1/n, 2/n], ...: (share of utterances, mean confidence, accuracy)."""
    conf = probs.max(1)
    correct = probs.argmax(1) == refs
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return [((bins == b).mean(), conf[bins == b].mean(), correct[bins == b].mean())
            for b in range(n_bins) if (bins == b).any()]


def ece(probs: np.ndarray, refs: np.ndarray, n_bins: int = N_BINS) -> float:
    return float(sum(w * abs(acc - conf) for w, conf, acc in reliability(probs, refs, n_bins)))


def nll(probs: np.ndarray, refs: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(refs)), refs], 1e-12, 1)).mean())


def brier(probs: np.ndarray, refs: np.ndarray) -> float:
    onehot = np.eye(probs.shape[1])[refs]
    return float(((probs - onehot) ** 2).sum(1).mean())


def mean_jsd(probs: np.ndarray, dists: np.ndarray) -> float:
    return float(np.mean([jensenshannon(p, q, base=2) ** 2 for p, q in zip(probs, dists)]))


def scale(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T)."""
    z = np.log(np.clip(probs, 1e-12, 1)) / temperature
    z -= z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(probs: np.ndarray, refs: np.ndarray) -> float:
    """The T in [0.05, 20] minimising NLL on (probs, refs) (bounded scalar search on log T)."""
    res = minimize_scalar(lambda lt: nll(scale(probs, np.exp(lt)), refs), bounds=(np.log(0.05), np.log(20)),
                          method="bounded", options={"xatol": 1e-4})
    return float(np.exp(res.x))


def measures(probs: np.ndarray, refs: np.ndarray, dists: np.ndarray | None = None) -> dict:
    out = {"n": len(refs), "ece": ece(probs, refs), "nll": nll(probs, refs), "brier": brier(probs, refs)}
    if dists is not None and len(dists):
        out["jsd"] = mean_jsd(probs, dists)
    return out


def reliability_diagram(sets: dict, temperature: float, path, n_bins: int = N_BINS):
    """Accuracy per confidence bin before / after temperature scaling (``temperature`` None:
    before only), one panel per set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(sets), figsize=(3.2 * len(sets), 3.3), squeeze=False)
    edges = np.linspace(0, 1, n_bins + 1)
    for ax, (name, (probs, refs)) in zip(axes[0], sets.items()):
        curves = [(probs, "before" if temperature else "scores", "o-")]
        if temperature:
            curves.append((scale(probs, temperature), f"T = {temperature:.2f}", "s-"))
        for p, label, style in curves:
            _, xs, ys = zip(*reliability(p, refs, n_bins))
            ax.plot(xs, ys, style, ms=3, label=f"{label} (ECE {ece(p, refs, n_bins):.3f})")
        ax.plot([0, 1], [0, 1], "k--", lw=0.8)
        ax.set_xticks(edges[::3])
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("confidence")
        ax.legend(fontsize=7, loc="upper left")
    axes[0][0].set_ylabel("accuracy")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=100)
    plt.close(fig)
