"""On-the-fly waveform augmentation with independent probabilities (Osman et al.).

``IndependentAugment(transforms, prob)`` applies each transform, in order, to a
random subset of the batch: every utterance draws each transform independently
with probability ``prob`` (0.2 by default in the recipes). Transforms take
``(wavs, lens)`` and keep the length. SpeechBrain's modules are used where they
exist (``SignFlip`` for polarity inversion, ``RandAmp`` for gain, ``AddNoise``
for white noise at a random SNR, ``Resample`` for the down/up resampling);
time reversal, echo and random peaking equalisation are small modules here.
The draws come from torch's global generator, seeded by the hparams ``seed``.

A frozen, cached upstream (``cache_features``) sees each utterance once, so on-the-fly
augmentation cannot reach it. ``augment_copies: N`` gives it augmented audio the other way:
N copies of each training utterance (ids ``<id>@aug<k>``), each the suite applied once to
the waveform before the upstream, with its own seed drawn from the utterance id and k (so
every fold, seed and variant sharing a feature cache reuses the same copies), cached like
the originals and trained on beside them (an epoch sees N + 1 versions of each utterance).
A copy's ``augment`` field names the suite (its transforms and probability) and the seed:
``copy_spec`` / ``apply_copy``.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn as nn
import torchaudio.functional as AF
from speechbrain.augment.time_domain import AddNoise, RandAmp, Resample, SignFlip

from .audio import sample_counts
from .stage import read_entries, write_entries_atomic


class Polarity(nn.Module):
    def __init__(self):
        super().__init__()
        self.flip = SignFlip(flip_prob=1.0)

    def forward(self, wavs, lens):
        return self.flip(wavs)


class Gain(nn.Module):
    def __init__(self, low=0.5, high=1.5):
        super().__init__()
        self.amp = RandAmp(amp_low=low, amp_high=high)

    def forward(self, wavs, lens):
        return self.amp(wavs)


class Noise(nn.Module):
    def __init__(self, snr_low=10, snr_high=30):
        super().__init__()
        self.noise = AddNoise(snr_low=snr_low, snr_high=snr_high)

    def forward(self, wavs, lens):
        return self.noise(wavs, lens)


class TimeReversal(nn.Module):
    """Reverse each utterance's valid samples; padding stays at the end."""

    def forward(self, wavs, lens):
        out = wavs.clone()
        for i, n in enumerate(sample_counts(wavs, lens).tolist()):
            out[i, :n] = wavs[i, :n].flip(0)
        return out


class ResampleBack(nn.Module):
    """Down-sample to a random lower rate and back: band-limits, keeps prosody."""

    def __init__(self, sample_rate=16000, rates=(8000, 11025, 12000)):
        super().__init__()
        self.pairs = nn.ModuleList(nn.ModuleList([Resample(sample_rate, r), Resample(r, sample_rate)])
                                   for r in rates)

    def forward(self, wavs, lens):
        down, up = self.pairs[int(torch.randint(len(self.pairs), ()))]
        y = up(down(wavs))
        if y.shape[1] < wavs.shape[1]:
            y = torch.nn.functional.pad(y, (0, wavs.shape[1] - y.shape[1]))
        return y[:, : wavs.shape[1]]


class Equalise(nn.Module):
    """A random peaking filter (centre 200-4000 Hz, gain -10..10 dB, Q 0.5-2)."""

    def __init__(self, sample_rate=16000):
        super().__init__()
        self.sr = sample_rate

    def forward(self, wavs, lens):
        f = float(torch.empty(()).uniform_(200, 4000))
        g = float(torch.empty(()).uniform_(-10, 10))
        q = float(torch.empty(()).uniform_(0.5, 2.0))
        return AF.equalizer_biquad(wavs, self.sr, f, g, q)


class Echo(nn.Module):
    """A delayed, attenuated copy (delay 50-250 ms, decay 0.2-0.5)."""

    def __init__(self, sample_rate=16000):
        super().__init__()
        self.sr = sample_rate

    def forward(self, wavs, lens):
        d = int(float(torch.empty(()).uniform_(0.05, 0.25)) * self.sr)
        a = float(torch.empty(()).uniform_(0.2, 0.5))
        delayed = torch.nn.functional.pad(wavs, (d, 0))[:, : wavs.shape[1]]
        mask = torch.arange(wavs.shape[1], device=wavs.device)[None] < sample_counts(wavs, lens)[:, None]
        return (wavs + a * delayed * mask) / (1 + a)


class IndependentAugment(nn.Module):
    """Each transform applied to each utterance with its own probability ``prob`` (Osman et al.'s
    suite: an utterance gets any subset of the seven). SpeechBrain's ``Augmenter`` draws which
    augmentations run once per batch (every utterance of the batch gets the same ones, or with
    ``augment_prob`` the batch is left as it is), so it cannot draw per utterance."""

    def __init__(self, transforms: list, prob: float = 0.2):
        super().__init__()
        self.transforms = nn.ModuleList(transforms)
        self.prob = prob

    def forward(self, wavs, lens):
        for t in self.transforms:
            pick = torch.rand(wavs.shape[0]) < self.prob
            if pick.any():
                idx = pick.nonzero().squeeze(1).to(wavs.device)
                wavs = wavs.clone()
                wavs[idx] = t(wavs[idx], lens[idx]).to(wavs.dtype)
        return wavs


def osman_suite(sample_rate: int = 16000, prob: float = 0.2) -> IndependentAugment:
    """The seven transforms of Osman et al., each with independent probability ``prob``."""
    return IndependentAugment([Polarity(), Gain(), TimeReversal(), Noise(), ResampleBack(sample_rate),
                               Equalise(sample_rate), Echo(sample_rate)], prob)


COPY_SEP = "@aug"


def training_suite(hp: dict):
    """The waveform suite applied to training batches on the fly: ``wav_augment``, none with
    ``augment: False``."""
    return hp.get("wav_augment") if hp.get("augment", True) else None


def copy_suite(hp: dict):
    """The suite the augmented copies are made with (``augment_copies``): ``wav_augment``, also
    under ``augment: False`` (the copies are augmented once, in the cache; batches are not)."""
    return hp.get("wav_augment") if hp.get("augment_copies") else None


def suite_tag(suite: IndependentAugment) -> str:
    """A short name of a suite: its transforms, in order, and their probability."""
    names = ",".join(type(t).__name__ for t in suite.transforms)
    return hashlib.sha1(f"{names}|{suite.prob}".encode()).hexdigest()[:10]


def copy_spec(suite: IndependentAugment, uid: str, k: int) -> str:
    """``<suite tag>:<seed>``: the ``augment`` field of copy k of utterance ``uid``."""
    seed = int(hashlib.sha1(f"{uid}{COPY_SEP}{k}".encode()).hexdigest()[:8], 16)
    return f"{suite_tag(suite)}:{seed}"


def apply_copy(suite: IndependentAugment, wav: torch.Tensor, spec: str) -> torch.Tensor:
    """The copy ``spec`` names of a (N,) waveform: the suite with that seed, the global generator untouched."""
    tag, _, seed = spec.partition(":")
    if tag != suite_tag(suite) or not seed.isdigit():
        raise ValueError(f"augmented copy '{spec}' was not made by this suite (tag {suite_tag(suite)})")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return suite(wav[None], torch.ones(1))[0]


def with_copies(manifest: Path | str, out: Path | str, n: int, suite: IndependentAugment) -> Path:
    """``manifest``'s entries and ``n`` augmented copies of each (same fields, plus ``augment``),
    written to ``out`` (atomically; left as it is when already the same)."""
    if n < 1:
        raise ValueError(f"augment_copies must be >= 1 here (got {n})")
    entries = read_entries(manifest)
    rows = dict(entries)
    for uid, e in entries.items():
        if COPY_SEP in uid:
            raise ValueError(f"{manifest}: utterance id '{uid}' holds '{COPY_SEP}', which names augmented copies")
        for k in range(1, n + 1):
            rows[f"{uid}{COPY_SEP}{k}"] = {**e, "augment": copy_spec(suite, uid, k)}
    out = Path(out)
    if not out.exists() or read_entries(out) != rows:
        write_entries_atomic(out, rows)
    return out
