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

``SpeakerNormalizer`` is the one owner of these statistics: training, stage 4, ``ser-predict``,
the timeline and the ONNX backend ask it, and nothing else computes or looks them up.

* Training (``speaker_norm: True``, frozen and cached upstream): each set's statistics are
  computed per ``speaker_norm_group`` (the manifest field, ``speaker`` by default) from the feature
  cache, over all of that group's utterances in the set (labels are not used; ``fit_set``). The
  pooled statistics of all training frames are kept in the model (``SpeakerNorm.train_stats``: the
  checkpoint and the exported model hold them). ``speaker_norm_dev: lone`` scores dev files alone;
  ``speaker_norm_lone_train`` p gives a share p of the training utterances the training statistics
  (``training_view``). Over fine-tuned top layers the statistics follow the weights (``refresh``).
* Inference: ``for_groups`` computes each group's statistics from its files (the frames the model
  reads); ``batch`` gives each file its group's. A file with no group is normalised with the
  training statistics, so its prediction depends on nothing but itself (less accurate: the model
  was trained on speaker-normalised features).
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

from .audio import AudioError

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


# the names exported model folders used before the current ones: (old, new)
OLD_NAMES = {"module": ("feature_norm", "speaker_norm_layer"), "group": ("norm_group", "speaker_norm_group")}
MODES = ("speaker", "lone")


def group_key_of(hp) -> str | None:
    """The manifest field that grouped utterances (an exported ``hyperparams.yaml``, a dict or a
    namespace), or None for a model without speaker normalisation."""
    get = hp.get if isinstance(hp, dict) else (lambda k: getattr(hp, k, None))
    return next((get(k) for k in reversed(OLD_NAMES["group"]) if get(k)), None)


class SpeakerNormalizer:
    """Speaker statistics: computed (from the feature cache in training, from a group's files at
    inference), stored (``layer``: the model's ``SpeakerNorm``, its training statistics) and handed
    to the model per utterance, in either mode: ``speaker`` (its group's statistics; transductive:
    a group's files decide together) or ``lone`` (the training statistics: a file alone)."""

    def __init__(self, layer: SpeakerNorm, group_key: str = "speaker", dev: str = "speaker",
                 lone_train: float = 0.0):
        if dev not in MODES:
            raise ValueError(f"speaker_norm_dev: '{dev}' is not one of {', '.join(MODES)}")
        self.layer, self.group_key, self.dev, self.lone_train = layer, group_key, dev, float(lone_train)
        self.tables: dict = {}    # set name → {group: (2, L, D), None: NaN (the training statistics)}
        self._sources: dict = {}  # set name → (load, groups): statistics that follow fine-tuned layers

    @classmethod
    def from_hparams(cls, hp: dict, modules: dict) -> SpeakerNormalizer | None:
        """A training run's normaliser (None unless ``speaker_norm``)."""
        if not hp.get("speaker_norm"):
            return None
        return cls(modules["speaker_norm_layer"], hp.get("speaker_norm_group") or "speaker",
                   hp.get("speaker_norm_dev") or "speaker", hp.get("speaker_norm_lone_train") or 0.0)

    @classmethod
    def of_model(cls, mods, hp) -> SpeakerNormalizer | None:
        """An exported model's normaliser (None without speaker normalisation); a folder exported
        under the old names has its module renamed in ``mods``."""
        old, new = OLD_NAMES["module"]
        if old in mods:
            mods[new] = mods[old]
            del mods[old]
        if new not in mods:
            return None
        return cls(mods[new], group_key_of(hp) or "speaker")

    # ---- training ------------------------------------------------------------
    def fit_set(self, name: str, entries: dict, scp, dim: int, load=None) -> dict:
        """Set ``name``'s table {group: (2, L, D), None: NaN} from its cache ``scp`` (``entries``: its
        manifest). A speaker's statistics, and the training statistics, are those of the original
        audio; augmented copies (``augment.with_copies``) are normalised with their speaker's. The
        ``train`` set's overall statistics become the model's; ``dev`` in ``lone`` mode gets no
        group statistics. ``load`` (uid → float32 (T, L * D)): fine-tuned top layers: ``refresh``
        recomputes the table."""
        groups = {uid: e.get(self.group_key) for uid, e in entries.items() if not e.get("augment")}
        per, overall = stats_from_cache(scp, dim, groups)
        if name == "dev" and self.dev == "lone":
            per = {}
        if name == "train":
            self.layer.train_stats.copy_(overall)
        self.tables[name] = {**per, None: torch.full_like(overall, float("nan"))}
        if load is not None:
            self._sources[name] = (load, groups)
        return self.tables[name]

    def item(self, name: str, group) -> torch.Tensor:
        """One utterance's statistics in set ``name`` (its group's, or NaN)."""
        table = self.tables[name]
        return table.get(group, table[None])

    def training_view(self, stats: torch.Tensor) -> torch.Tensor:
        """``speaker_norm_lone_train`` p: each training utterance, with probability p, gets NaN
        statistics (the training statistics), as a file without a group gets at inference; the head
        then learns from both views of an utterance."""
        if self.lone_train <= 0:
            return stats
        lone = torch.rand(stats.shape[0], device=stats.device) < self.lone_train
        return torch.where(lone[:, None, None, None], torch.full_like(stats, float("nan")), stats)

    @property
    def follows_weights(self) -> bool:
        return bool(self._sources)

    def refresh(self, states) -> None:
        """Recompute the tables of the sets given a ``load`` from ``states(load, uids)`` (yields
        (uid, (T, L, D)) by the current weights); the training statistics with them."""
        for name, (load, groups) in self._sources.items():
            table = self.tables[name]
            if name != "train" and not set(table) - {None}:
                continue  # no group statistics to refresh (dev scored lone)
            per, overall = group_stats(states(load, list(groups)), groups)
            for g, st in per.items():
                if g in table:
                    table[g].copy_(st)
            if name == "train":
                self.layer.train_stats.copy_(overall)

    # ---- inference -----------------------------------------------------------
    @staticmethod
    def for_groups(paths: list, groups: list, states_of) -> dict:
        """{group: (2, L, D)} over the frames of each group's files (``groups``: one key or None per
        path); ``states_of(path)``: that file's (T, L, D) states as the model reads it (the model's
        ``states``). An unreadable file (``AudioError``) is left out: its own prediction reports it."""
        if len(groups) != len(paths):
            raise ValueError(f"{len(groups)} groups for {len(paths)} files")
        acc: dict = {}
        for p, g in zip(paths, groups):
            if g is not None:
                errors, frames = acc.setdefault(g, ([], FrameStats()))
                try:
                    frames.add(states_of(p))
                except AudioError as e:
                    errors.append(e)
        for errors, frames in acc.values():
            if not frames.n:
                raise AudioError(f"no readable file in the group ({errors[0] if errors else 'no files'})")
        return {g: frames.result() for g, (_, frames) in acc.items()}

    @staticmethod
    def batch(table: dict, keys: list) -> torch.Tensor | None:
        """(B, 2, L, D): each key's statistics from ``table`` (NaN for a key it lacks: the training
        ones), or None for an empty table (every file alone)."""
        if not table:
            return None
        missing = torch.full_like(next(iter(table.values())), float("nan"))
        return torch.stack([table.get(k, missing) for k in keys])

    @staticmethod
    def repeat(stats: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """(n, 2, L, D): one group's statistics for ``n`` pieces of one file (the timeline's windows)."""
        return None if stats is None else stats.expand(n, *stats.shape)
