"""Small modules between the upstream and the losses.

* ``WeightedLayerSum``: learned softmax weights over the upstream's hidden layers (``learned=False``:
  the plain mean of the layers, the layer-weighting ablation; ``only=k``: hidden state k alone, a
  cached all-layer run's single-layer variant).
* ``GradientReversal``: identity forward, gradient times ``-scale`` backward
  (Ganin & Lempitsky, 2015), for the domain-adversarial head.
* ``MLP``: Linear → activation → dropout → Linear (1 hidden layer) or a
  single Linear (``hidden=0``).
* ``Pooler``: SpeechBrain's attentive statistics pooling over (B, T, D) with
  relative lengths, returning (B, 2D) (computed time-major, global context factored,
  the statistics' backward in closed form: ``weighted_stats``); ``attention_channels=0``: the
  plain mean and standard deviation of the valid frames (statistics pooling, no parameters).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from speechbrain.lobes.models.ECAPA_TDNN import AttentiveStatisticsPooling


class WeightedLayerSum(nn.Module):
    def __init__(self, n_layers: int, layers=None, learned: bool = True, only: int | None = None):
        super().__init__()
        self.layers = list(layers) if layers else None
        n = len(self.layers) if self.layers else n_layers
        self.weights = nn.Parameter(torch.zeros(n), requires_grad=learned and only is None)  # not learned: equal
        if only is not None and not -n <= only < n:
            raise ValueError(f"only_layer {only} does not exist: the sum is over {n} hidden states")
        self.only = None if only is None else only % n  # hidden state ``only`` alone: the others are not read

    def forward(self, hiddens: torch.Tensor, selected: bool = False, speaker_stats: torch.Tensor | None = None) -> torch.Tensor:
        """(L, B, T, D) → (B, T, D) in the weights' dtype (float32); ``selected``: ``hiddens`` holds
        only ``layers`` already. ``hiddens`` may be float16 (the in-memory feature cache) and the
        (L, B, T, D) view of the cache's (B, T, L, D) batches. ``speaker_stats`` (B, 2, L, D): each
        utterance's mean and standard deviation per layer (of the used layers) and dimension:
        the sum is then over the standardised layers (``speaker_norm``), computed without a
        standardised copy: sum_l (w_l / s_l) h_l - sum_l w_l m_l / s_l."""
        if self.layers and not selected:
            hiddens = hiddens[self.layers]
        if self.only is None:
            w = torch.softmax(self.weights, 0)
        else:  # a view of that layer (and its statistics), weight 1
            k = slice(self.only, self.only + 1)
            hiddens, w = hiddens[k], self.weights.new_ones(1)
            speaker_stats = speaker_stats[:, :, k] if speaker_stats is not None else None
        if speaker_stats is None:
            return _layer_sum(w, hiddens)
        mean, std = speaker_stats[:, 0].transpose(0, 1), speaker_stats[:, 1].transpose(0, 1)  # (L, B, D)
        scale = w[:, None, None] / std
        return _layer_sum(scale[:, :, None, :], hiddens) - (scale * mean).sum(0)[:, None, :]

    def check(self, n_hidden: int, where: str = "upstream"):
        """Fail unless these weights fit an upstream returning ``n_hidden`` hidden states
        (a mismatch would silently weight only the first layers)."""
        if self.layers:
            bad = [i for i in self.layers if not -n_hidden <= i < n_hidden]
            if bad:
                raise ValueError(f"upstream_layers {bad} do not exist: the {where} returns {n_hidden} hidden "
                                 f"states (embeddings + transformer layers, indices 0-{n_hidden - 1})")
        elif len(self.weights) != n_hidden:
            raise ValueError(f"encoder_layers is {len(self.weights)} but the {where} returns {n_hidden} hidden "
                             f"states (embeddings + transformer layers): set encoder_layers: {n_hidden}")


def _layer_sum(w, h):
    """sum_l w_l h_l of ``h`` (L, B, T, D), accumulated layer by layer in ``w``'s dtype: ``h`` is
    read as it is stored (float16 or float32; the upstream's (L, B, T, D) stack or the cache's
    (B, T, L, D) batches), without a converted or transposed copy, and autograd's backward of
    each step is one product with that layer (forward + backward on a cached batch measured
    ~2x faster than ``(w * h).sum(0)``)."""
    if h.shape[0] != w.shape[0]:
        raise ValueError(f"{w.shape[0]} layer weights for {h.shape[0]} hidden states")
    out = torch.zeros(h.shape[1:], dtype=w.dtype, device=h.device)  # w: (L,) or per utterance (L, B, 1, D)
    for layer, weight in zip(h, w):
        out = out.addcmul(layer, weight) if torch.jit.is_tracing() else out.addcmul_(layer, weight)
    return out


class _Reverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.scale * grad, None


class GradientReversal(nn.Module):
    def __init__(self, scale: float = 1.0):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return _Reverse.apply(x, self.scale)


class MLP(nn.Module):
    def __init__(self, input_size: int, output_size: int, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        if hidden:
            self.net = nn.Sequential(nn.Linear(input_size, hidden), nn.LeakyReLU(), nn.Dropout(dropout),
                                     nn.Linear(hidden, output_size))
        else:
            self.net = nn.Linear(input_size, output_size)

    def forward(self, x):
        return self.net(x)


class Pooler(nn.Module):
    """SpeechBrain's ``AttentiveStatisticsPooling`` (global context): its parameters (``self.asp``,
    so checkpoints are SpeechBrain's) and its arithmetic, computed time-major and with the
    global-context projection factored. SpeechBrain builds ``[x; mean; std]`` (3D channels) at
    every frame before the first 1x1 convolution; since ``W [x; m; s] = W_x x + (W_m m + W_s s)``,
    the utterance terms are projected once per utterance: half the multiply-adds and no
    (B, 3D, T) tensor. ``tests/test_model_parts.py`` checks it equals SpeechBrain's forward
    (train and eval mode) and its gradients.

    Lengths count whole frames: SpeechBrain masks ``arange(T) < lengths * T``, and a relative
    length n/T can come back as n + 1e-6 (one padded frame pooled in a batch, not alone);
    here the mask is ``arange(T) < round(lengths * T)``, written with broadcasting so a traced
    graph keeps a dynamic batch axis."""

    def __init__(self, input_size: int, attention_channels: int = 64):
        super().__init__()
        self.asp = AttentiveStatisticsPooling(input_size, attention_channels=attention_channels,
                                              global_context=True) if attention_channels else None
        self.input_size = input_size
        self.output_size = 2 * input_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, D) with relative ``lengths`` (B,) → (B, 2D): attentive mean and std."""
        asp, d, t = self.asp, self.input_size, x.shape[1]
        n = torch.full(x.shape[:1], t, device=x.device, dtype=x.dtype) if lengths is None \
            else torch.round(lengths.to(x.dtype) * t).clamp(1, t)
        valid = (torch.arange(t, device=x.device, dtype=x.dtype)[None, :] < n[:, None])[:, :, None].to(x.dtype)
        mean, std = weighted_stats(x, valid / n[:, None, None], asp.eps if asp is not None else 1e-12)
        if asp is None:
            return torch.cat([mean, std], 1)
        w = asp.tdnn.conv.conv.weight[:, :, 0]  # (C, 3D): 1x1 convolution over [x; mean; std]
        h = F.linear(x, w[:, :d]) + F.linear(torch.cat([mean, std], 1), w[:, d:], asp.tdnn.conv.conv.bias)[:, None]
        h = asp.tdnn.dropout(asp.tdnn.norm(asp.tdnn.activation(h).transpose(1, 2))).transpose(1, 2)  # (B, T, C)
        scores = F.linear(asp.tanh(h), asp.conv.conv.weight[:, :, 0], asp.conv.conv.bias)  # (B, T, D)
        # padded frames get -inf (log 0) before the softmax: an added (B, T, 1) bias, whose
        # backward is free, where masked_fill would cost a pass each way
        attn = torch.softmax(scores + torch.log(valid), 1)
        return torch.cat(weighted_stats(x, attn, asp.eps), 1)


def _weighted_stats(x, w, eps):
    """Weighted mean and std over time (dim 1) of ``x`` (B, T, D); ``w`` (B, T, 1 or D) sums to 1
    over time: SpeechBrain's ``sqrt(clamp(sum w (x - mean)^2, eps))``. Also returns the centred
    ``x`` and whether the variance escaped the clamp, for the backward."""
    if w.shape[-1] == 1:  # one weight per frame: the sums over time are matrix products
        wt = w.transpose(1, 2)
        mean = torch.bmm(wt, x)[:, 0]
        xc = x - mean[:, None]
        var = torch.bmm(wt, xc * xc)[:, 0]
    else:
        mean = (w * x).sum(1)
        xc = x - mean[:, None]
        var = (w * xc * xc).sum(1)
    return mean, torch.sqrt(var.clamp(eps)), xc, var >= eps


class _WeightedStats(torch.autograd.Function):
    """``_weighted_stats`` with its backward in closed form, in ~5 passes over (B, T, D) where
    autograd's chain through the expression takes ~12 (checked against SpeechBrain's ASP and
    its autograd gradients in tests/test_model_parts.py). With m = sum w x, v = sum w (x - m)^2,
    s = sqrt(v) and sum w = 1 (so sum w (x - m) = 0):
    dm/dx_t = w_t, dv/dx_t = 2 w_t (x_t - m), dm/dw_t = x_t, dv/dw_t = (x_t - m)^2; ds = dv / 2s,
    and nothing flows through s where v was clamped. The gradient of ``w`` is returned up to a
    constant over time per utterance and channel (x_t is taken as x_t - m), which the backward
    of the softmax that makes ``w`` removes: ``w`` needs a gradient only as a softmax over time."""

    @staticmethod
    def forward(ctx, x, w, eps):
        mean, std, xc, free = _weighted_stats(x, w, eps)
        ctx.save_for_backward(w, xc, std, free)
        return mean, std

    @staticmethod
    def backward(ctx, g_mean, g_std):
        w, xc, std, free = ctx.saved_tensors
        k = torch.where(free, g_std / std, 0.0)[:, None]  # (B, 1, D): dL/dv times 2
        g_x = g_w = None
        if ctx.needs_input_grad[0]:
            g_x = w * torch.addcmul(g_mean[:, None], k, xc)
        if ctx.needs_input_grad[1]:
            g_w = xc * torch.addcmul(g_mean[:, None], 0.5 * k, xc)
            if w.shape[-1] == 1:
                g_w = g_w.sum(-1, keepdim=True)
        return g_x, g_w, None


def weighted_stats(x, w, eps):
    """(mean, std) of ``x`` over time under weights ``w``: the closed-form backward when training,
    the plain expression otherwise (inference, ONNX tracing)."""
    if torch.is_grad_enabled() and (x.requires_grad or w.requires_grad) and not torch.jit.is_tracing():
        return _WeightedStats.apply(x, w, eps)
    return _weighted_stats(x, w, eps)[:2]


class DomainHead(nn.Module):
    """Gradient reversal followed by an MLP domain classifier."""

    def __init__(self, input_size: int, n_domains: int, hidden: int = 256, dropout: float = 0.1,
                 grl_scale: float = 1.0):
        super().__init__()
        self.grl = GradientReversal(grl_scale)
        self.mlp = MLP(input_size, n_domains, hidden, dropout)

    def forward(self, x):
        return self.mlp(self.grl(x))


class AttributeHeads(nn.Module):
    """Three 2-layer MLPs (arousal, valence, dominance) with sigmoid outputs in [0, 1]
    (the 1-7 scale mapped to [0, 1]), as in Lertpetchpun et al."""

    def __init__(self, input_size: int, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        self.heads = nn.ModuleList(MLP(input_size, 1, hidden, dropout) for _ in range(3))

    def forward(self, x):
        return torch.sigmoid(torch.cat([h(x) for h in self.heads], -1))
