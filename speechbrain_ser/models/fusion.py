"""Early fusion of a frame-level upstream with utterance-level features (``hparams/whisper_egemaps.yaml``:
Whisper's hidden states with openSMILE's eGeMAPS functionals).

``FusedUpstream(frames, utterance)``: ``frames`` returns (L, B, T, D1) hidden states (Whisper, an SSL
model), ``utterance`` returns one vector per utterance as (1, B, F, D2) (``EgemapsUpstream``: F = 2
identical frames); the output is (L, B, T, D1 + D2), the utterance vector appended to every frame of
every layer. Downstream of the fusion nothing changes and each piece does what it did alone: the
feature cache stores the fused frames once per utterance; the speaker normalisation standardises
every channel with the speaker's statistics (a functional repeated over an utterance's frames keeps
its value, so it is standardised over the speaker's utterances, weighted by their frames); the
weighted layer sum leaves the appended vector as it is (its weights sum to 1); the attentive
pooling's mean of a constant is the constant (its standard deviation 0). The head thus sees the
pooled Whisper vector concatenated with the standardised functionals: fusion of pooled vectors.
"""
from __future__ import annotations

import torch
from torch import nn


class FusedUpstream(nn.Module):
    def __init__(self, frames: nn.Module, utterance: nn.Module):
        super().__init__()
        self.frames = frames
        self.utterance = utterance
        self.n_layers = frames.n_layers
        # the feature cache's fingerprint: both parts (weights come from the state dict)
        self.feature_set = f"{type(frames).__name__}+{getattr(utterance, 'feature_set', type(utterance).__name__)}"

    @property
    def spec_augment(self):
        return getattr(self.frames, "spec_augment", None)

    @spec_augment.setter
    def spec_augment(self, value):
        self.frames.spec_augment = value

    def forward(self, wavs: torch.Tensor, lens: torch.Tensor | None = None) -> torch.Tensor:
        hid = self.frames(wavs, lens)  # (L, B, T, D1)
        vec = self.utterance(wavs, lens)[0, :, 0]  # (B, D2)
        if vec.shape[0] != hid.shape[1]:
            raise ValueError(f"the utterance features cover {vec.shape[0]} utterances, the frames {hid.shape[1]}")
        vec = vec.to(hid.dtype)[None, :, None, :].expand(hid.shape[0], -1, hid.shape[2], -1)
        return torch.cat([hid, vec], -1)

    def output_lengths(self, wavs: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        if hasattr(self.frames, "output_lengths"):
            return self.frames.output_lengths(wavs, lens)
        return lens
