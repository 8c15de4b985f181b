"""Manifests: SpeechBrain JSON keyed by utterance id, audio paths as ``{data_root}/...``.

``build_manifest`` runs a corpus module's ``prepare`` over its root, validates
every row and returns the manifest dict; nothing is written until the whole
corpus is valid. Checks: audio exists and its header reads; not empty; no NaN
or Inf (decoded only for float formats, the only ones that can hold them; the
duration always comes from the header); ids unique; gender in F/M/U; labels
known (checked by the module). Errors name the file and line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from .corpora.base import CorpusError, Row

FIELDS = ("wav", "duration", "corpus", "language", "speaker", "gender", "split", "native",
          "intensity", "transcript", "votes", "avd", "source")


def audio_info(path: Path, where: str) -> float:
    """Duration in seconds from the header; raises CorpusError on bad audio."""
    if not path.exists():
        raise CorpusError(where, f"audio file missing: {path}")
    try:
        info = sf.info(str(path))
    except Exception as e:  # soundfile raises RuntimeError/LibsndfileError
        raise CorpusError(where, f"audio file unreadable: {path} ({e})") from None
    if info.frames == 0 or info.samplerate <= 0:
        raise CorpusError(where, f"audio file is empty: {path}")
    if info.subtype in ("FLOAT", "DOUBLE"):
        data, _ = sf.read(str(path), dtype="float64")
        if not np.all(np.isfinite(data)):
            raise CorpusError(where, f"audio holds NaN/Inf samples: {path}")
    return info.frames / info.samplerate


def row_to_entry(row: Row, corpus, data_root: Path) -> dict:
    path = Path(row.path)
    where = row.source or str(path)
    try:
        rel = path.resolve().relative_to(data_root.resolve())
        wav = "{data_root}/" + rel.as_posix()
    except ValueError:
        wav = str(path)  # a corpus outside the data root keeps its absolute path
    if row.gender not in ("F", "M", "U"):
        raise CorpusError(where, f"gender must be F, M or U, got {row.gender!r}")
    return dict(
        wav=wav, duration=round(audio_info(path, where), 4), corpus=corpus.NAME,
        language=row.extra.get("language", corpus.LANGUAGE), speaker=row.speaker,
        gender=row.gender, split=row.split, native=row.native, intensity=row.intensity,
        transcript=row.transcript, votes=row.votes, avd=row.avd, source=where,
    )


def build_manifest(corpus, root: Path, data_root: Path) -> dict:
    """Validated manifest of one corpus (raises CorpusError, writes nothing)."""
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(root, f"{corpus.NAME} root folder not found")
    out, seen = {}, {}
    for row in corpus.prepare(root):
        if row.id in out:
            raise CorpusError(row.source or row.path,
                              f"duplicate utterance id '{row.id}' (first seen at {seen[row.id]})")
        out[row.id] = row_to_entry(row, corpus, Path(data_root))
        seen[row.id] = row.source or str(row.path)
    if not out:
        raise CorpusError(root, f"{corpus.NAME}: no utterances found")
    return out
