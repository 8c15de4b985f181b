"""Training samplers for imbalanced emotion classes.

* ``class_balanced`` (CONILIUM §3.4): SpeechBrain's ``BalancingDataSampler`` on
  the hard label: each utterance is drawn with weight 1 / frequency of its class.
* ``Undersampler`` (Lertpetchpun et al.): every epoch keeps all utterances of
  classes at or below the cap and a fresh random subset of ``cap`` utterances
  of each larger class; ``cap`` = the median class count × ``cap_factor``.
  Utterances without a hard label (O/X included as soft targets) form one more
  group.
"""
from __future__ import annotations

import numpy as np
import torch
from speechbrain.dataio.sampler import BalancingDataSampler


def class_balanced(dataset, key: str = "hard", seed: int = 0):
    return BalancingDataSampler(dataset, key, seed=seed)


class Undersampler(torch.utils.data.Sampler):
    def __init__(self, dataset, key: str = "hard", cap_factor: float = 1.0, seed: int = 0):
        with dataset.output_keys_as([key]):
            labels = [str(item[key]) for item in dataset]
        self.groups: dict = {}
        for i, lab in enumerate(labels):
            self.groups.setdefault(lab, []).append(i)
        counts = sorted(len(v) for v in self.groups.values())
        self.cap = max(1, int(round(np.median(counts) * cap_factor)))
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def indices(self) -> list:
        rng = np.random.default_rng([self.seed, self.epoch])
        out = []
        for _, idx in sorted(self.groups.items()):
            take = idx if len(idx) <= self.cap else rng.choice(idx, self.cap, replace=False).tolist()
            out.extend(take)
        rng.shuffle(out)
        self.epoch += 1  # a new subset next epoch even without set_epoch
        return [int(i) for i in out]

    def __iter__(self):
        return iter(self.indices())

    def __len__(self):
        return sum(min(len(v), self.cap) for v in self.groups.values())


def undersampler(dataset, key: str = "hard", cap_factor: float = 1.0, seed: int = 0):
    return Undersampler(dataset, key, cap_factor, seed)
