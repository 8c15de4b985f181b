"""Label spaces, soft mappings to the unified space, and neutral smoothing.

A label space and a soft mapping are data (YAML in this folder, or a file the
recipe names). A mapping row sends one native label of one corpus to a
distribution over the unified space; it must sum to 1 and carry a one-line
rationale (``why``). Labels a mapping marks ``exclude`` (e.g. IEMOCAP "xxx")
are kept in the manifest but get no target.

Neutral smoothing (our definition): an emotional target ``t`` becomes
``(1 - eps) * t + eps * onehot(neutral)``, where ``eps`` is looked up from the
corpus's own intensity level when it has one, else the corpus default, else
the global default. Neutral utterances are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import yaml

HERE = Path(__file__).parent
DEFAULT_SPACES = HERE / "spaces.yaml"
DEFAULT_MAPPING = HERE / "unified_mapping.yaml"


class LabelConfigError(ValueError):
    """A label space or mapping file is malformed (message names file and key)."""


@dataclass
class LabelSpace:
    name: str
    classes: list
    names: dict = field(default_factory=dict)
    arousal: dict = field(default_factory=dict)  # class -> "high" / "low" (binary arousal scoring)

    def index(self, label: str) -> int:
        return self.classes.index(label)

    def onehot(self, label: str) -> np.ndarray:
        v = np.zeros(len(self.classes))
        v[self.index(label)] = 1.0
        return v


def load_space(name: str, path: Path | str = DEFAULT_SPACES) -> LabelSpace:
    spaces = yaml.safe_load(Path(path).read_text())
    if name not in spaces:
        raise LabelConfigError(f"{path}: no label space '{name}' (have {sorted(spaces)})")
    entry = spaces[name]
    arousal = {c: group for group in ("high", "low") for c in (entry.get("arousal") or {}).get(group, [])}
    unknown = sorted(set(arousal) - set(entry["classes"]))
    if unknown:
        raise LabelConfigError(f"{path}: {name}.arousal names {unknown}, not classes of the space")
    return LabelSpace(name, list(entry["classes"]), dict(entry.get("names", {})), arousal)


@dataclass
class CorpusMapping:
    rows: dict            # native label -> np.ndarray over the space
    excluded: set
    epsilon: float | None
    intensity_epsilon: dict


@dataclass
class SoftMapping:
    space: LabelSpace
    neutral: str
    default_epsilon: float
    corpora: dict         # corpus -> CorpusMapping
    path: str

    def target(self, corpus: str, native: str) -> np.ndarray | None:
        """Unsmoothed unified target of a native label; None if excluded."""
        cm = self._corpus(corpus)
        if native in cm.excluded:
            return None
        if native not in cm.rows:
            raise LabelConfigError(
                f"{self.path}: corpus '{corpus}' has no mapping row for label '{native}'"
            )
        return cm.rows[native].copy()

    def epsilon(self, corpus: str, intensity: str | None) -> float:
        cm = self._corpus(corpus)
        if intensity is not None and str(intensity) in cm.intensity_epsilon:
            return cm.intensity_epsilon[str(intensity)]
        return cm.epsilon if cm.epsilon is not None else self.default_epsilon

    def smooth(self, target: np.ndarray, eps: float) -> np.ndarray:
        """Neutral smoothing of an emotional target; neutral targets unchanged."""
        n = self.space.index(self.neutral)
        if target[n] >= 1.0 - 1e-9:
            return target
        out = (1.0 - eps) * target
        out[n] += eps
        return out

    def arousal(self, corpus: str, native: str) -> str | None:
        """"high" / "low": the arousal group (``spaces.yaml``) holding more than half of the native
        label's mapping row (RAVDESS calm, 0.8 neutral + 0.2 sadness: low); None when neither does."""
        row = self.target(corpus, native)
        if row is None:
            return None
        for group in ("high", "low"):
            if sum(w for c, w in zip(self.space.classes, row) if self.space.arousal.get(c) == group) > 0.5:
                return group
        return None

    def _corpus(self, corpus: str) -> CorpusMapping:
        if corpus not in self.corpora:
            raise LabelConfigError(f"{self.path}: no mapping for corpus '{corpus}'")
        return self.corpora[corpus]


def load_mapping(path: Path | str = DEFAULT_MAPPING, spaces: Path | str = DEFAULT_SPACES,
                 overrides: Mapping | None = None) -> SoftMapping:
    """Read and validate a soft mapping file.

    ``overrides`` may set ``default_epsilon`` and per-corpus ``epsilon`` /
    ``intensity_epsilon`` (e.g. from a recipe yaml) without editing the file.
    """
    path = str(path)
    doc = yaml.safe_load(Path(path).read_text())
    space = load_space(doc["space"], spaces)
    neutral = doc.get("neutral", "neutral")
    if neutral not in space.classes:
        raise LabelConfigError(f"{path}: neutral class '{neutral}' not in space {space.name}")
    overrides = dict(overrides or {})
    default_eps = float(overrides.get("default_epsilon", doc.get("default_epsilon", 0.1)))
    corpora = {}
    for corpus, entry in (doc.get("corpora") or {}).items():
        rows, excluded = {}, set()
        for native, row in (entry.get("labels") or {}).items():
            where = f"{path}: corpora.{corpus}.labels.{native}"
            if not isinstance(row, dict) or not str(row.get("why", "")).strip():
                raise LabelConfigError(f"{where}: each row needs a one-line 'why'")
            if row.get("exclude"):
                excluded.add(str(native))
                continue
            dist = row.get("to")
            if not isinstance(dist, dict) or not dist:
                raise LabelConfigError(f"{where}: 'to' must map unified classes to weights")
            vec = np.zeros(len(space.classes))
            for cls, w in dist.items():
                if cls not in space.classes:
                    raise LabelConfigError(f"{where}: unknown class '{cls}' (space {space.classes})")
                if not (0 <= float(w) <= 1):
                    raise LabelConfigError(f"{where}: weight {w} for '{cls}' outside [0, 1]")
                vec[space.index(cls)] = float(w)
            if abs(vec.sum() - 1.0) > 1e-6:
                raise LabelConfigError(f"{where}: weights sum to {vec.sum():.4f}, not 1")
            rows[str(native)] = vec
        ov = (overrides.get("corpora") or {}).get(corpus, {})
        eps = ov.get("epsilon", entry.get("epsilon"))
        ieps = {str(k): float(v) for k, v in
                (ov.get("intensity_epsilon") or entry.get("intensity_epsilon") or {}).items()}
        for k, v in list(ieps.items()) + ([("epsilon", eps)] if eps is not None else []):
            if not 0 <= float(v) < 1:
                raise LabelConfigError(f"{path}: corpora.{corpus} epsilon {k}={v} outside [0, 1)")
        corpora[corpus] = CorpusMapping(rows, excluded, None if eps is None else float(eps), ieps)
    return SoftMapping(space, neutral, default_eps, corpora, path)


def arousal_groups(labels, corpus: str | None = None, mapping: "SoftMapping | None" = None) -> dict:
    """{label: "high" / "low" / None} for classes of the mapping's space (``spaces.yaml``'s arousal
    grouping) and, given ``corpus``, for that corpus's native labels (through its mapping rows:
    ``SoftMapping.arousal``)."""
    mapping = mapping or load_mapping()
    out = {}
    for label in labels:
        if label in mapping.space.classes:
            out[label] = mapping.space.arousal.get(label)
        elif corpus is not None and corpus in mapping.corpora:
            try:
                out[label] = mapping.arousal(corpus, label)
            except LabelConfigError:  # a label without a mapping row has no arousal group
                out[label] = None
        else:
            out[label] = None
    return out


def scoring_class(mapping: "SoftMapping", corpus: str, native: str, score_as: Mapping | None = None):
    """The unified class a native label is scored as (hard-label metrics, hard-target training),
    or None when it is excluded from hard-label metrics. Explicit ``score_as[corpus][native]``
    first; else the mapping row when it is one-hot; else None. Never an argmax tie-break."""
    chosen = ((score_as or {}).get(corpus) or {}).get(native)
    if chosen is not None:
        if chosen not in mapping.space.classes:
            raise LabelConfigError(f"score_as.{corpus}.{native}: '{chosen}' is not a class of {mapping.space.classes}")
        return chosen
    row = mapping.target(corpus, native)
    if row is None:
        return None
    nz = np.flatnonzero(row > 0)
    return mapping.space.classes[int(nz[0])] if len(nz) == 1 else None
