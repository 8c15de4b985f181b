"""openSMILE's eGeMAPS functionals as an upstream (``hparams/egemaps.yaml``): the classic
baseline of cross-lingual SER (the feature set of Latif et al.'s Urdu baseline).

Each utterance gives one vector of the 88 eGeMAPSv02 functionals (Eyben et al., 2016) computed
by audEERING's ``opensmile`` package, returned as one hidden layer of two identical frames,
(1, B, 2, 88), so the shared Brain's path applies unchanged: the feature cache computes it once per
utterance, the speaker normalisation standardises each functional with the speaker's statistics
(a repeated frame changes no mean or standard deviation), and the attentive pooling passes the
vector through (its mean is the vector itself, its standard deviation 0). Two frames, not one:
the pooling's batch normalisation needs more than one value per channel in a batch of one.

``opensmile`` is an optional extra (``pip install 'speechbrain_ser[egemaps]'``): the openSMILE
binary it ships is under audEERING's research licence (non-commercial use), while this project
is Apache-2.0. Nothing in the core imports this module.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

N_FUNCTIONALS = 88


class EgemapsUpstream(nn.Module):
    n_layers = 1

    def __init__(self, feature_set: str = "eGeMAPSv02", sample_rate: int = 16000):
        super().__init__()
        try:
            import opensmile
        except ImportError:
            raise ImportError("the eGeMAPS upstream needs openSMILE's Python package: "
                              "pip install 'speechbrain_ser[egemaps]' (audEERING's research licence, "
                              "non-commercial use)") from None
        self.feature_set = feature_set
        self.sample_rate = sample_rate
        self.smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                                     feature_level=opensmile.FeatureLevel.Functionals)
        self.spec_augment = None

    def forward(self, wavs: torch.Tensor, lens: torch.Tensor | None = None) -> torch.Tensor:
        """(B, N) waveforms with relative ``lens`` → (1, B, 2, 88) functionals, each over its own samples."""
        n = wavs.shape[1]
        lens = torch.ones(wavs.shape[0]) if lens is None else lens
        rows = []
        for w, r in zip(wavs, lens.tolist()):
            x = w[: max(1, round(r * n))].detach().cpu().numpy().astype(np.float32)
            rows.append(self.smile.process_signal(x, self.sample_rate).to_numpy()[0])
        out = torch.from_numpy(np.nan_to_num(np.stack(rows)).astype(np.float32)).to(wavs.device)
        return out[None, :, None, :].expand(1, -1, 2, -1).contiguous()

    def output_lengths(self, wavs: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        return torch.ones(wavs.shape[0], device=wavs.device)
