"""The corpus contract and the helpers every corpus module shares.

A corpus module (one file in this folder; see ``docs/adding_a_corpus.md``) defines:

* ``NAME``, ``LANGUAGE`` (ISO 639-1), ``DIRNAME`` (its folder in a data root),
  ``LABELS`` (its native label set); where it has them: ``AVD_SCALE`` (the low and
  high end of its arousal/valence/dominance rating scale, e.g. ``(1.0, 5.0)``),
  ``SPLIT_UNIT`` (the manifest field a split without an official partition keeps
  whole, default ``"speaker"``);
* ``prepare(root, **options) -> Iterator[Row | Reject]``: read the release under
  ``root`` and yield one ``Row`` per utterance, or a ``Reject`` for a file that
  cannot be used (its name breaks the convention, an unknown code). Readers
  whose labels live in the file names use ``each_file``: they declare their
  naming convention as ``LAYOUTS`` (regexes over the tail of a path) and the
  audio is found at any depth below ``root``. A malformed *label file* is not a
  per-file problem: raise ``CorpusError`` naming the file and line.

What the embedded-data generator needs to make a synthetic copy of a corpus
lives in ``speechbrain_ser/synth/layouts/``, not here: readers never import the
generator.
"""
from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

def _soundfile_extensions() -> tuple:
    """Every file extension libsndfile (through soundfile) reads: WAV, FLAC, AIFF (CaFE's
    192 kHz release), OGG, MP3 where the library has it, ... (headerless RAW excluded)."""
    import soundfile as sf

    exts = {f.lower() for f in sf.available_formats()} - {"raw"}
    exts |= {"aif"} if "aiff" in exts else set()
    exts |= {"oga", "opus"} if "ogg" in exts else set()
    return tuple(sorted("." + e for e in exts))


AUDIO_EXTENSIONS = _soundfile_extensions()
# Folders that archive tools add and that never hold corpus audio.
IGNORED_DIRS = {"__MACOSX"}


class CorpusError(ValueError):
    """Bad corpus input; the message names the file (and line) and the problem."""

    def __init__(self, path, problem: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path, self.line, self.problem = str(path), line, problem


@dataclass
class Row:
    """One utterance as a corpus module reads it (before validation)."""
    id: str
    path: Path
    speaker: Optional[str]           # None: not known (never a speaker class, split alone)
    gender: str                      # "F" / "M" / "U"
    native: str                      # native label as the corpus spells it
    source: str = ""                 # "file[:line]" the label came from
    split: Optional[str] = None      # the corpus's own partition, if any
    intensity: Optional[str] = None
    transcript: Optional[str] = None
    votes: Optional[list] = None     # [{"worker","primary","secondary","avd"}]; primary: a label, or an
    #                                  unranked list of labels over which that vote is split (labels.votes.shares)
    avd: Optional[list] = None       # consensus [arousal, valence, dominance]
    extra: dict = field(default_factory=dict)


@dataclass
class Reject:
    """A file a reader could not use, and why; listed in ``rejected_<corpus>.tsv``.

    ``counts=False`` for a second copy of an utterance already read (re-packs that
    ship the same files twice): it is listed but not counted as data lost.
    """
    path: Path
    reason: str
    counts: bool = True


class Skip(Exception):
    """Raised by a reader's per-file function: this one file is unusable (the reason)."""


class OtherPart(Skip):
    """Raised for a file of another part of the release (RAVDESS song files next to the
    speech files): listed in ``rejected_<corpus>.tsv`` as skipped, not counted as data lost."""


def audio_file(path: Path) -> Path:
    """``path`` when it exists, else the file of the same stem with another audio extension
    (label files name ``x.wav``; a FLAC copy of the corpus holds ``x.flac``); ``path`` when none does."""
    if path.exists():
        return path
    for ext in AUDIO_EXTENSIONS:
        other = path.with_suffix(ext)
        if other.exists():
            return other
    return path


def _audio_files(root: Path) -> Iterator[Path]:
    """Audio files at any depth below ``root``, sorted; hidden files and folders
    (``.DS_Store``, ``._x.wav`` AppleDouble files) and ``__MACOSX`` are not corpus audio."""
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and x not in IGNORED_DIRS)
        for f in sorted(files):
            if not f.startswith(".") and f.lower().endswith(AUDIO_EXTENSIONS):
                yield Path(d) / f


def compile_layouts(layouts, flags=0) -> list:
    r"""Each layout matches the end of a path relative to the corpus root, starting at a
    folder boundary, *without* the file extension: any audio extension soundfile reads is
    accepted (``AUDIO_EXTENSIONS``, any case), once here for every reader. ``Actor_\d\d/x``
    matches ``Audio_Speech_Actors_01-24/Actor_18/x.wav`` and ``Actor_18/x.FLAC``."""
    ext = r"\.(?i:" + "|".join(re.escape(e[1:]) for e in AUDIO_EXTENSIONS) + ")"
    return [re.compile(r"(?:^|/)(?:" + x + r")" + ext + "$", flags) for x in layouts]


def find_audio(root: Path, layouts, corpus: str, flags=0) -> Iterator[tuple]:
    """Yield ``(path, match)`` for every audio file below ``root`` (any depth): ``match``
    is the first layout that fits the path's tail, or None. No audio at all is an error."""
    regexes = compile_layouts(layouts, flags)
    n = 0
    for f in _audio_files(root):
        n += 1
        rel = f.relative_to(root).as_posix()
        yield f, next((m for m in (r.search(rel) for r in regexes) if m), None)
    if n == 0:
        raise CorpusError(root, f"no {corpus} audio found at any depth below this folder "
                                f"(looked for {', '.join(AUDIO_EXTENSIONS)} files)")


def each_file(root: Path, layouts, corpus: str, row: Callable, flags=0) -> Iterator:
    """The body of a file-name reader: ``row(path, match)`` makes the Row of one file
    (or raises ``Skip``); files outside the convention become Rejects."""
    for f, m in find_audio(root, layouts, corpus, flags):
        if m is None:
            yield Reject(f, f"name does not follow the {corpus} naming convention")
            continue
        try:
            yield row(f, m)
        except OtherPart as e:
            yield Reject(f, f"skipped: {e}", counts=False)
        except Skip as e:
            yield Reject(f, str(e))


def check_label(native: str, labels, corpus: str) -> str:
    """A label read from a file name: unknown means this one file is unusable (Skip)."""
    if native not in labels:
        raise Skip(f"unknown {corpus} label '{native}' (known: {', '.join(sorted(labels))})")
    return native


def read_csv(path: Path, required: list, delimiter: str = ",") -> Iterator[tuple]:
    """Yield (line number, row dict); missing columns or short rows are errors."""
    if not path.exists():
        raise CorpusError(path, "file not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise CorpusError(path, f"missing column(s) {missing}; header is {reader.fieldnames}", 1)
        for row in reader:
            if None in row or any(row.get(c) is None for c in required):
                raise CorpusError(path, f"malformed row (expected {len(reader.fieldnames)} fields)",
                                  reader.line_num)
            yield reader.line_num, row


def write_csv(path: Path, header: list, rows: list, delimiter: str = ","):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
