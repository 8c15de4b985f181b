"""Losses over logits ``(B, C)`` and targets ``(B, C)`` (soft or one-hot).

Soft targets (Multilingual16, CONILIUM P/S, Halmai & Gosztolya):
* ``soft_ce``: -sum_c y_c log softmax(z)_c, batch mean (= KLD + const).
* ``kld``: CONILIUM eq. 3, KL(y || softmax(z)) = sum_c y_c log(y_c / p_c), summed over
  the classes and averaged over the utterances (PyTorch's ``batchmean``).
Class-weighted variants (``weights``: (C,) inverse class frequency):
* ``wce``: CONILIUM eq. 1: each class's term -y_c log p_c times w_c.
* ``bce``: eq. 2 on sigmoid outputs (one independent binary problem per class).
  ``wbce`` multiplies *both* terms of class c by w_c, as in eq. 2. That scales how much
  each class's error counts in the gradient, but not where each class's loss is lowest:
  for a target y the optimum is still sigmoid(z) = y, so it does not raise the rare
  classes' scores. ``wbce_pos`` weights only the positive term (``pos_weight``): its
  optimum is sigmoid(z) = w y / (w y + 1 - y), which does raise rare classes.
Halmai & Gosztolya: ``mse`` on raw outputs, ``mse_softmax`` after softmax.
Attributes (Lertpetchpun et al.): ``ccc_loss`` = 1 - CCC per attribute, mean.

Each categorical loss names the output function its head is read through
(``head_output``): softmax for the cross-entropy family, KLD and ``mse_softmax``,
sigmoid for the BCE family, the raw outputs for ``mse``. Predictions, threshold
tuning, ensembles and the ``soft_mse`` selection metric use that function.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_ce(logits, targets, weights=None):
    """PyTorch's cross-entropy with class-probability targets: -sum_c w_c y_c log softmax(z)_c, mean
    over the batch (not divided by the weights, unlike its class-index form)."""
    return F.cross_entropy(logits, targets, weight=weights)


def wce(logits, targets, weights):
    return soft_ce(logits, targets, weights)


def kld(logits, targets, weights=None):
    logp = F.log_softmax(logits, -1)
    t = targets.clamp_min(0)
    term = torch.where(t > 0, t * (torch.log(t.clamp_min(1e-12)) - logp), torch.zeros_like(t))
    if weights is not None:
        term = term * weights
    return term.sum(-1).mean()


def bce(logits, targets, weights=None):
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if weights is not None:
        loss = loss * weights
    return loss.sum(-1).mean()


def wbce(logits, targets, weights):
    return bce(logits, targets, weights)


def wbce_pos(logits, targets, weights):
    """BCE with the positive term of class c weighted by w_c (``pos_weight``)."""
    return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=weights, reduction="none").sum(-1).mean()


def mse(outputs, targets, weights=None):
    return ((outputs - targets) ** 2).mean()


def mse_softmax(logits, targets, weights=None):
    return ((torch.softmax(logits, -1) - targets) ** 2).mean()


def ccc(pred: torch.Tensor, gold: torch.Tensor) -> torch.Tensor:
    """Concordance correlation coefficient per column (population moments)."""
    pm, gm = pred.mean(0), gold.mean(0)
    pv, gv = pred.var(0, unbiased=False), gold.var(0, unbiased=False)
    cov = ((pred - pm) * (gold - gm)).mean(0)
    return 2 * cov / (pv + gv + (pm - gm) ** 2 + 1e-8)


def ccc_loss(pred, gold, weights=None):
    return (1 - ccc(pred, gold)).mean()


def inverse_frequency(hard_indices, n_classes: int) -> torch.Tensor:
    """w_c = N / (C * n_c), classes never seen get weight 0; mean weight of seen classes ~ 1."""
    counts = torch.bincount(torch.as_tensor(hard_indices), minlength=n_classes).float()
    w = torch.where(counts > 0, counts.sum() / (n_classes * counts.clamp_min(1)), torch.zeros_like(counts))
    return w


def _identity(x):
    return x


OUTPUTS = {"soft_ce": "softmax", "wce": "softmax", "kld": "softmax", "mse_softmax": "softmax",
           "bce": "sigmoid", "wbce": "sigmoid", "wbce_pos": "sigmoid", "mse": "identity"}


OUTPUT_FUNCTIONS = {"softmax": lambda z: torch.softmax(z, -1), "sigmoid": torch.sigmoid, "identity": _identity}


def head_output(cost):
    """The output function a head trained with ``cost`` (a loss or a partial of one) is read through."""
    fn = getattr(cost, "func", cost)
    name = OUTPUTS.get(getattr(fn, "__name__", ""))
    if name is None:
        raise ValueError(f"no output function known for the loss {fn!r} (known: {sorted(OUTPUTS)})")
    return OUTPUT_FUNCTIONS[name]
