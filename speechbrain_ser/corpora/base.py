"""The corpus contract and helpers shared by the corpus modules.

A corpus module defines:

* ``NAME``, ``LANGUAGE`` (ISO 639-1), ``DIRNAME`` (folder name in a data root),
  ``LABELS`` (its native label set);
* ``prepare(root) -> Iterator[Row]``: read the real release layout under
  ``root`` and yield one row per utterance (raise ``CorpusError`` naming the
  file and line on bad input);
* ``SYNTH`` (a ``SynthSpec``) and ``wav_path(utt)`` / ``write_meta(root, utts)``:
  how the embedded-data generator lays out a synthetic copy of the corpus.
  A module may also define ``plan(size, rng)`` when the generic plan does not
  fit (IEMOCAP, MSP-Podcast).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional


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
    speaker: str
    gender: str                      # "F" / "M" / "U"
    native: str                      # native label as the corpus spells it
    source: str = ""                 # "file[:line]" the label came from
    split: Optional[str] = None      # the corpus's own partition, if any
    intensity: Optional[str] = None
    transcript: Optional[str] = None
    votes: Optional[list] = None     # [{"worker","primary","secondary","avd"}]
    avd: Optional[list] = None       # consensus [arousal, valence, dominance]
    extra: dict = field(default_factory=dict)


@dataclass
class Speaker:
    id: str
    gender: str


@dataclass
class SynthSpec:
    voice: str                        # espeak-ng voice
    speakers: list                    # [Speaker]
    emotions: dict                    # native label -> emotion concept
    sentences: list                   # [(code, text)]
    intensities: Optional[dict] = None  # level -> expressed strength in (0, 1]


@dataclass
class Utt:
    """One planned synthetic utterance."""
    speaker: Speaker
    native: str
    sentence: tuple
    take: int = 1
    intensity: Optional[str] = None
    blend: dict = field(default_factory=dict)
    index: int = 0
    extra: dict = field(default_factory=dict)


def match_files(root: Path, glob: str, pattern: str, corpus: str) -> Iterator[tuple]:
    """Yield (path, match) for files under ``root`` matching ``glob``.

    A file that matches the glob but not the corpus's naming ``pattern`` is an
    error naming it, not a silent skip.
    """
    regex = re.compile(pattern)
    files = sorted(root.glob(glob))
    if not files:
        raise CorpusError(root, f"no {corpus} audio found (looked for {glob})")
    for f in files:
        m = regex.fullmatch(f.name)
        if not m:
            raise CorpusError(f, f"file name does not follow the {corpus} convention /{pattern}/")
        yield f, m


def check_label(native: str, labels, where, corpus: str) -> str:
    if native not in labels:
        raise CorpusError(where, f"unknown {corpus} label '{native}' (known: {sorted(labels)})")
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
