"""Manifests: SpeechBrain JSON keyed by utterance id, audio paths as ``{data_root}/...``.

``build_manifest`` runs a corpus module's ``prepare`` over its root, validates
every row and returns the manifest dict and the rejected files; nothing is
written here. Per file (a reject, listed with its reason): a name outside the
corpus's convention or an unknown code (from the reader), audio missing,
unreadable, empty or holding NaN/Inf (decoded only for float formats, the only
ones that can hold them; the duration always comes from the header), and a
second copy of an utterance already read from another path (listed, not
counted as lost data). Among copies of one utterance a lossless one (WAV, FLAC,
AIFF, ...) is read and lossy ones (MP3, Ogg, Opus: CREMA-D ships ``AudioMP3/``
beside ``AudioWAV/``) are the listed copies, whatever the order they come in. For the whole corpus (an error naming file and line,
nothing written): a malformed label file (from the reader), the same id twice
from one label source, gender outside F/M/U, no utterances at all, counted
rejects above ``max_reject`` of the files, or any reject with ``strict``.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import soundfile as sf

from .corpora.base import CorpusError, Reject, Row, Skip

LOSSY_EXTENSIONS = (".mp3", ".ogg", ".oga", ".opus")  # soundfile's lossy formats: never chosen over a lossless copy
FIELDS = ("wav", "duration", "corpus", "language", "speaker", "gender", "split", "native",
          "intensity", "transcript", "votes", "avd", "source")


def audio_info(path: Path) -> float:
    """Duration in seconds from the header; raises Skip(reason) on unusable audio."""
    if not path.exists():
        raise Skip("audio file missing")
    try:  # the header only (sf.info also asks libsndfile for its log text: twice the time)
        with sf.SoundFile(str(path)) as info:
            frames, samplerate, subtype = info.frames, info.samplerate, info.subtype
    except Exception as e:  # soundfile raises RuntimeError/LibsndfileError
        raise Skip(f"audio file unreadable ({str(e).splitlines()[0][:120]})") from None
    if frames == 0 or samplerate <= 0:
        raise Skip("audio file is empty")
    if subtype in ("FLOAT", "DOUBLE"):
        data, _ = sf.read(str(path), dtype="float64")
        if not np.all(np.isfinite(data)):
            raise Skip("audio holds NaN/Inf samples")
    return frames / samplerate


def row_to_entry(row: Row, corpus, data_root: Path) -> dict:
    path = Path(row.path)
    where = row.source or str(path)
    # absolute, not resolved: a corpus folder symlinked into the data root stays under {data_root}
    apath, root = os.path.abspath(path), os.path.abspath(data_root)
    if apath.startswith(root + os.sep):
        wav = "{data_root}/" + Path(apath[len(root) + 1:]).as_posix()
    else:
        wav = str(path)  # a corpus outside the data root keeps its absolute path
    if row.gender not in ("F", "M", "U"):
        raise CorpusError(where, f"gender must be F, M or U, got {row.gender!r}")
    return dict(
        wav=wav, duration=round(audio_info(path), 4), corpus=corpus.NAME,
        language=row.extra.get("language", corpus.LANGUAGE), speaker=row.speaker,
        gender=row.gender, split=row.split, native=row.native, intensity=row.intensity,
        transcript=row.transcript, votes=row.votes, avd=row.avd, source=where,
        # the reader's other per-utterance fields (``Row.extra``: a sentence id, a word list, ...)
        **{k: v for k, v in row.extra.items() if k != "language" and k not in FIELDS},
    )


def build_manifest(corpus, root: Path, data_root: Path, *, strict: bool = False,
                   max_reject: float = 0.05, options: dict | None = None) -> tuple[dict, list]:
    """Validated manifest of one corpus and its rejects ``[Reject]`` (writes nothing).

    ``options`` are the reader's keyword options (e.g. IEMOCAP ``self_evaluations``).
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(root, f"{corpus.NAME} root folder not found")
    try:
        items = corpus.prepare(root, **(options or {}))
    except TypeError as e:
        raise CorpusError(root, f"{corpus.NAME}: bad reader option(s) {sorted(options or {})}: {e}") from None
    out, first, rejects = {}, {}, []
    for item in items:
        if isinstance(item, Reject):
            rejects.append(item)
            continue
        row = item
        where = row.source or str(row.path)
        replaces = None
        if row.id in out:
            if Path(row.path) == Path(first[row.id][1]):
                raise CorpusError(where, f"duplicate utterance id '{row.id}' (first seen at {first[row.id][0]})")
            if not (lossy(first[row.id][1]) and not lossy(row.path)):
                rejects.append(Reject(row.path, f"another copy of {row.id} (read from {first[row.id][1]})",
                                      counts=False))
                continue
            replaces = first[row.id][1]  # a lossless copy of an utterance first met as a lossy one
        try:
            entry = row_to_entry(row, corpus, Path(data_root))
        except Skip as e:
            rejects.append(Reject(row.path, str(e) if where == str(row.path) else f"{e} (listed at {where})"))
            continue
        if replaces is not None:
            rejects.append(Reject(Path(replaces), f"another copy of {row.id} (read from {row.path}, lossless)",
                                  counts=False))
        out[row.id] = entry
        first[row.id] = (where, row.path)
    counted = [r for r in rejects if r.counts]
    summary = ", ".join(f"{n} x {why}" for why, n in Counter(_kind(r.reason) for r in counted).most_common())
    if strict and counted:
        raise CorpusError(counted[0].path, f"{counted[0].reason} ({corpus.NAME}: {len(counted)} file(s) "
                                           f"rejected and strict is set: {summary})")
    total = len(out) + len(counted)
    if not out:
        raise CorpusError(root, f"{corpus.NAME}: no usable utterances found"
                                + (f" ({len(counted)} rejected: {summary})" if counted else ""))
    if counted and len(counted) / total > max_reject:
        raise CorpusError(root, f"{corpus.NAME}: {len(counted)} of {total} files rejected "
                                f"({100 * len(counted) / total:.1f}% > max_reject {100 * max_reject:g}%): {summary}; "
                                f"first: {counted[0].path}: {counted[0].reason}")
    return out, rejects


def lossy(path) -> bool:
    """A lossy audio format (``LOSSY_EXTENSIONS``), by the file's extension."""
    return Path(path).suffix.lower() in LOSSY_EXTENSIONS


def _kind(reason: str) -> str:
    """A reason without its specifics, for the per-corpus summary."""
    return reason.split(" (")[0].split(": ")[0]
