"""Losses over logits ``(B, C)`` and targets ``(B, C)`` (soft or one-hot).

Soft targets (Multilingual16, CONILIUM P/S, Halmai & Gosztolya):
* ``soft_ce``: -sum_c y_c log softmax(z)_c, batch mean (= KLD + const).
* ``kld``: CONILIUM eq. 3, sum_c y_c log(y_c / p_c) averaged over N and C.
Class-weighted variants (``weights``: (C,) inverse class frequency):
* ``wce``: CONILIUM eq. 1; ``bce`` / ``wbce``: eq. 2 on sigmoid outputs.
Halmai & Gosztolya: ``mse`` on raw outputs, ``mse_softmax`` after softmax.
Attributes (Lertpetchpun et al.): ``ccc_loss`` = 1 - CCC per attribute, mean.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_ce(logits, targets, weights=None):
    logp = F.log_softmax(logits, -1)
    w = weights if weights is not None else torch.ones(logits.shape[-1], device=logits.device)
    return -(w * targets * logp).sum(-1).mean()


def wce(logits, targets, weights):
    return soft_ce(logits, targets, weights)


def kld(logits, targets, weights=None):
    logp = F.log_softmax(logits, -1)
    t = targets.clamp_min(0)
    term = torch.where(t > 0, t * (torch.log(t.clamp_min(1e-12)) - logp), torch.zeros_like(t))
    if weights is not None:
        term = term * weights
    return term.mean()


def bce(logits, targets, weights=None):
    loss = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if weights is not None:
        loss = loss * weights
    return loss.sum(-1).mean()


def wbce(logits, targets, weights):
    return bce(logits, targets, weights)


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
