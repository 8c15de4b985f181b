"""URDU emotional speech (Latif et al., 2018): talk-show clips in 4 emotions.

Release read: the GitHub release (``URDU-Dataset``), folders Angry, Happy,
Neutral, Sad. File names ``S<G><N>_F<K>_<E><NNN>.wav``: ``S<G><N>`` the speaker
(G = M/F, N = number), ``F<K>`` the file group, ``<E>`` the first letter of the
emotion, then a number. No official split.

Accepted at any depth, in the emotion folders or flat (the letter gives the
emotion). Rejected: a letter that contradicts its emotion folder, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Skip, each_file

NAME, LANGUAGE, DIRNAME = "urdu", "ur", "URDU"
LABELS = {"Angry", "Happy", "Neutral", "Sad"}
LETTERS = {x[0]: x for x in LABELS}
LAYOUTS = [r"S(?P<g>[MF])(?P<num>\d+)_F(?P<grp>\d+)_(?P<letter>[AHNS])(?P<n>\d+)"]


def _row(f: Path, m) -> Row:
    emo = LETTERS[m["letter"]]
    if f.parent.name in LABELS and f.parent.name != emo:
        raise Skip(f"emotion letter '{m['letter']}' in the '{f.parent.name}' folder")
    return Row(id=f"urdu_{f.stem}", path=f, speaker=f"urdu_S{m['g']}{m['num']}", gender=m["g"],
               native=emo, source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "URDU", _row)
