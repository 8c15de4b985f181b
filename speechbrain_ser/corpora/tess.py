"""TESS, Toronto emotional speech set (Dupuis & Pichora-Fuller, 2010).

Release read: the University of Toronto Dataverse release. Two female talkers
(OAF aged 64, YAF aged 26) say "Say the word _" for 200 target words in 7
emotions. File names ``<SPK>_<word>_<emotion>.wav`` with emotion one of angry,
disgust, fear, happy, neutral, ps (pleasant surprise), sad. No official split.

Accepted at any depth: the release's folders, whose spelling varies
(``OAF_Fear``, ``OAF_Pleasant_surprise``, ``YAF_pleasant_surprised``,
``TESS Toronto emotional speech set data/...``); one flat folder of the files
(``OAF_lid_fear.wav``, ``YAF_back_angry.wav``); any letter case in the emotion
suffix; the truncated speaker code ``OA_`` (e.g. ``OA_bite_neutral.wav``) read as
OAF. The folder name is never used: the file name carries speaker, word and
emotion. Rejected: other speaker codes, unknown emotion suffixes, other names.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "tess", "en", "TESS"
LABELS = {"angry", "disgust", "fear", "happy", "neutral", "ps", "sad"}
LAYOUTS = [r"(?P<spk>OAF|YAF|OA)_(?P<word>[^_/]+)_(?P<emo>[A-Za-z]+)"]


def _row(f: Path, m) -> Row:
    spk = {"OA": "OAF"}.get(m["spk"].upper(), m["spk"].upper())
    word, emo = m["word"].lower(), m["emo"].lower()
    return Row(id=f"tess_{spk}_{word}_{emo}", path=f, speaker=f"tess_{spk}", gender="F",
               native=check_label(emo, LABELS, "TESS"), source=str(f),
               transcript=f"Say the word {word}")


def prepare(root: Path):
    return each_file(root, LAYOUTS, "TESS", _row, flags=re.IGNORECASE)
