"""Small modules between the upstream and the losses.

* ``WeightedLayerSum``: learned softmax weights over the upstream's hidden layers.
* ``GradientReversal``: identity forward, gradient times ``-scale`` backward
  (Ganin & Lempitsky, 2015), for the domain-adversarial head.
* ``MLP``: Linear → activation → dropout → Linear (1 hidden layer) or a
  single Linear (``hidden=0``).
* ``Pooler``: SpeechBrain's attentive statistics pooling over (B, T, D) with
  relative lengths, returning (B, 2D).
"""
from __future__ import annotations

import torch
import torch.nn as nn
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
    def __init__(self, input_size: int, attention_channels: int = 64):
        super().__init__()
        self.asp = AttentiveStatisticsPooling(input_size, attention_channels=attention_channels,
                                              global_context=True)
        self.output_size = 2 * input_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is not None:
            # whole frames, robust to float error: SpeechBrain masks `arange(T) < lengths * T`, and
            # a relative length of n/T can come back as n + 1e-6 (one padded frame pooled in a
            # batch, not alone); n - 0.5 selects exactly n frames
            t = x.shape[1]
            lengths = (torch.round(lengths * t).clamp(1, t) - 0.5) / t
        return self.asp(x.transpose(1, 2), lengths).squeeze(-1)


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
