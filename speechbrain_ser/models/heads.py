"""Small modules between the upstream and the losses.

* ``WeightedLayerSum``: learned softmax weights over the upstream's hidden layers.
* ``GradientReversal``: identity forward, gradient times ``-scale`` backward
  (Ganin & Lempitsky, 2015), for the domain-adversarial head.
* ``MLP``: Linear → activation → dropout → Linear (1 hidden layer) or a
  single Linear (``hidden=0``).
* ``Pooler``: SpeechBrain's attentive statistics pooling over (B, T, D) with
  relative lengths, returning (B, 2D) (computed time-major, global context factored).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from speechbrain.lobes.models.ECAPA_TDNN import AttentiveStatisticsPooling


class WeightedLayerSum(nn.Module):
    def __init__(self, n_layers: int, layers=None):
        super().__init__()
        self.layers = list(layers) if layers else None
        n = len(self.layers) if self.layers else n_layers
        self.weights = nn.Parameter(torch.zeros(n))

    def forward(self, hiddens: torch.Tensor, selected: bool = False) -> torch.Tensor:
        """(L, B, T, D) → (B, T, D); ``selected``: ``hiddens`` holds only ``layers`` already."""
        if self.layers and not selected:
            hiddens = hiddens[self.layers]
        w = torch.softmax(self.weights, 0)
        return (w[:, None, None, None] * hiddens).sum(0)


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
                                              global_context=True)
        self.input_size = input_size
        self.output_size = 2 * input_size

    @staticmethod
    def _stats(x, w, eps):
        """Weighted mean and std over time of ``x`` (B, T, D); ``w`` (B, T, 1 or D) sums to 1."""
        mean = (w * x).sum(1)
        std = torch.sqrt((w * (x - mean[:, None]).pow(2)).sum(1).clamp(eps))
        return mean, std

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, D) with relative ``lengths`` (B,) → (B, 2D): attentive mean and std."""
        asp, d, t = self.asp, self.input_size, x.shape[1]
        n = torch.full(x.shape[:1], t, device=x.device, dtype=x.dtype) if lengths is None \
            else torch.round(lengths.to(x.dtype) * t).clamp(1, t)
        valid = (torch.arange(t, device=x.device, dtype=x.dtype)[None, :] < n[:, None])[:, :, None]  # (B, T, 1)
        mean, std = self._stats(x, valid.to(x.dtype) / n[:, None, None], asp.eps)
        w = asp.tdnn.conv.conv.weight[:, :, 0]  # (C, 3D): 1x1 convolution over [x; mean; std]
        h = F.linear(x, w[:, :d]) + F.linear(torch.cat([mean, std], 1), w[:, d:], asp.tdnn.conv.conv.bias)[:, None]
        h = asp.tdnn.dropout(asp.tdnn.norm(asp.tdnn.activation(h).transpose(1, 2))).transpose(1, 2)  # (B, T, C)
        scores = F.linear(asp.tanh(h), asp.conv.conv.weight[:, :, 0], asp.conv.conv.bias)  # (B, T, D)
        attn = torch.softmax(scores.masked_fill(~valid, float("-inf")), 1)
        return torch.cat(self._stats(x, attn, asp.eps), 1)


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
