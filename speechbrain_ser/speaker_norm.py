"""Speaker normalisation of a frozen upstream's features.

Each utterance's hidden states (every layer the layer sum uses, every dimension) are
standardised with the mean and standard deviation of the frames of *its speaker's*
utterances: ``(h - mean_speaker) / std_speaker`` per layer and dimension. What is left is how
this utterance departs from the speaker's usual voice, which is what emotion is within a
speaker; who the speaker is (pitch range, timbre, recording channel) is taken out. The
classic form is z-normalising acoustic features per speaker (Schuller et al., "Cross-corpus
acoustic emotion recognition: variances and strategies", IEEE TAC 2010; Busso et al.,
"Iterative feature normalization scheme for automatic emotion detection from speech",
IEEE TAC 2013); here it is applied to the upstream's frames.

* Training (``speaker_norm: True``, frozen and cached upstream): each set's statistics are
  computed per ``speaker_norm_group`` (the manifest field, ``speaker`` by default) from the feature
  cache, over all of that group's utterances in the set (labels are not used). The pooled
  statistics of all training frames are kept in the model (``SpeakerNorm.train_stats``).
* Inference: ``EmotionRecognizer.group_stats(paths)`` computes a group's statistics from its
  files; ``predict_files(..., groups=[...])`` normalises each file with its group's. A file
  with no group is normalised with the training statistics, so its prediction depends on
  nothing but itself (less accurate: the model was trained on speaker-normalised features).
* It assumes a group's utterances span the speaker's emotions (an acted corpus's design, a
  long recording). A speaker heard in one emotion only is normalised towards that emotion
  being their neutral: on URDU (talk-show clips, most speakers in one emotion) it removes
  what the classifier needs; the README's real-corpus section measures both.

The normalisation is folded into the layer sum (``WeightedLayerSum(speaker_stats=...)``): sum_l w_l
(h_l - m_l) / s_l = sum_l (w_l / s_l) h_l - sum_l w_l m_l / s_l, so the cached float16 frames
are read once, never copied.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

STD_FLOOR = 1e-3


class SpeakerNorm(nn.Module):
    """Holds the training set's frame statistics (the fallback for an utterance without a
    group) and turns per-utterance statistics into the (B, 2, L, D) the layer sum takes."""

    def __init__(self, n_layers: int, dim: int):
        super().__init__()
        stats = torch.zeros(2, n_layers, dim)
        stats[1] = 1.0
        self.register_buffer("train_stats", stats)

    def forward(self, stats: torch.Tensor | None, batch: int) -> torch.Tensor:
        """``stats`` (B, 2, L, D), rows of NaN = no group (training statistics), or None (all)."""
        if stats is None:
            stats = self.train_stats.expand(batch, -1, -1, -1)
        else:
            missing = torch.isnan(stats).flatten(1).any(1)
            if missing.any():
                stats = torch.where(missing[:, None, None, None], self.train_stats.expand_as(stats), stats)
        return torch.stack([stats[:, 0], stats[:, 1].clamp(min=STD_FLOOR)], 1)


class FrameStats:
    """Running mean and standard deviation over frames (float64 sums), per layer and dimension."""

    def __init__(self):
        self.n, self.s, self.ss = 0, None, None

    def add(self, frames) -> None:
        """``frames`` (T, L, D), one utterance's valid frames."""
        x = np.asarray(frames, dtype=np.float64)
        if self.s is None:
            self.s, self.ss = np.zeros(x.shape[1:]), np.zeros(x.shape[1:])
        self.n += x.shape[0]
        self.s += x.sum(0)
        self.ss += (x * x).sum(0)

    def result(self) -> torch.Tensor:
        """(2, L, D): mean and (population) standard deviation of the frames added."""
        if not self.n:
            raise ValueError("no frames to compute statistics from")
        mean = self.s / self.n
        var = np.maximum(self.ss / self.n - mean * mean, 0.0)
        return torch.from_numpy(np.stack([mean, np.sqrt(var)])).float()


def group_stats(frames, groups: dict) -> tuple[dict, torch.Tensor]:
    """``frames``: iterable of (uid, (T, L, D)); ``groups``: {uid: group or None}.
    Returns ({group: (2, L, D)}, the statistics of all frames). Utterances with no group count
    in the overall statistics only."""
    per, overall = {}, FrameStats()
    for uid, m in frames:
        g = groups.get(uid)
        overall.add(m)
        if g is not None:
            per.setdefault(g, FrameStats()).add(m)
    return {g: s.result() for g, s in per.items()}, overall.result()


def stats_from_cache(scp, dim: int, groups: dict) -> tuple[dict, torch.Tensor]:
    """``group_stats`` over a feature cache (``feature_cache.ensure``: (T, L * D) matrices)."""
    import kaldiio

    def frames():
        for uid, m in kaldiio.load_scp_sequential(str(scp)):
            if uid in groups:
                yield uid, np.asarray(m).reshape(m.shape[0], -1, dim)

    return group_stats(frames(), groups)
