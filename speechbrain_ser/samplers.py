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
from speechbrain.dataio.sampler import BalancingDataSampler, DynamicBatchSampler


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


def lengths_of(dataset, max_seconds: float | None) -> list:
    """Seconds each utterance of a ``DynamicItemDataset`` contributes to a batch: its ``duration``,
    cut at the training crop ``max_seconds``."""
    cap = float(max_seconds) if max_seconds else float("inf")
    return [min(float(dataset.data[u]["duration"]), cap) for u in dataset.data_ids]


def length_buckets(dataset, batch_size: int, max_seconds: float | None, batch_seconds: float | None = None,
                   num_buckets: int = 40, seed: int = 0, shuffle: bool = True):
    """SpeechBrain's ``DynamicBatchSampler`` (a batch sampler) over length buckets: ``num_buckets``
    bucket boundaries at quantiles of the set's own cropped lengths (``lengths_of``), so each batch
    holds utterances of similar length and little padding; at most ``batch_size`` utterances and
    ``batch_seconds`` seconds of audio per batch (None: ``batch_size`` × ``max_seconds``, the
    most a random batch can hold). ``shuffle``: a new draw of the buckets' members and of the
    batch order each epoch (the sampler's ``set_epoch``, which SpeechBrain calls), seeded;
    otherwise batches in ascending length (inference and dev)."""
    lengths = lengths_of(dataset, max_seconds)
    if not lengths:
        raise ValueError("length_buckets: an empty set")
    budget = float(batch_seconds) if batch_seconds else batch_size * max(lengths)
    if budget < max(lengths):
        raise ValueError(f"batch_seconds {budget:g} is less than the longest cropped utterance "
                         f"({max(lengths):.2f} s): raise it or lower max_seconds")
    bounds = np.unique(np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:]))
    return LengthBuckets(dataset, max_batch_length=budget, bucket_boundaries=[float(b) for b in bounds],
                         lengths_list=lengths, max_batch_ex=batch_size, shuffle=shuffle, seed=seed,
                         batch_ordering="random" if shuffle else "ascending")


class LengthBuckets(DynamicBatchSampler):
    """SpeechBrain's ``DynamicBatchSampler`` whose batches are a function of the seed and the epoch
    alone: ``set_epoch`` draws that epoch's batches, and iterating does not redraw (SpeechBrain's
    redraws and reorders at the end of each pass, so an epoch's batches depend on how many passes
    this process made: a run resumed from a checkpoint would draw others than an uninterrupted one)."""

    def set_epoch(self, epoch):
        if epoch != self._epoch:
            self._epoch = epoch
            self._generate_batches()

    def __iter__(self):
        yield from list(self._batches)


def padding_share(batches, lengths: list) -> float:
    """The share of a padded batch's frames that are padding, over ``batches`` (lists of indices into
    ``lengths``): sum(n × longest − total) / sum(n × longest)."""
    padded = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1 - sum(lengths[i] for b in batches for i in b) / padded if padded else 0.0
