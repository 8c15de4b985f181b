"""European Portuguese emotional sentences (Castro & Lima, 2010, Behavior Research Methods 42).

Release read: the validated set of sentences and pseudo-sentences distributed
by the authors (one folder of wav files). File names
``<n><s|p><A|B>_<emotion><k>.wav``, e.g. ``12sA_angry1.wav``: item number,
``s`` sentence or ``p`` pseudo-sentence, speaker A or B, emotion (angry,
disgust, fear, happy, neutral, sad, surprise) and take. The names carry no
gender, so gender is U. No official split.

Accepted at any depth. Rejected: unknown emotions or speakers, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "castro_lima", "pt", "CastroLima"
LABELS = {"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"}
LAYOUTS = [r"(?P<item>\d+)(?P<kind>[sp])(?P<spk>[AB])_(?P<emo>[a-z]+)(?P<take>\d+)"]


def _row(f: Path, m) -> Row:
    return Row(id=f"castro_lima_{f.stem}", path=f, speaker=f"castro_lima_{m['spk']}", gender="U",
               native=check_label(m["emo"], LABELS, "Castro & Lima"), source=str(f),
               extra={"kind": {"s": "sentence", "p": "pseudo-sentence"}[m["kind"]]})


def prepare(root: Path):
    return each_file(root, LAYOUTS, "Castro & Lima", _row)
