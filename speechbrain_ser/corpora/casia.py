"""CASIA Chinese emotional corpus (Institute of Automation, CAS): 4 speakers, 6 emotions.

Release read: the public 6-emotion subset (1,200 utterances: 50 sentences per
speaker and emotion, numbered 201-250). Files ``<speaker>/<emotion>/<NNN>.wav``
with speakers liuchanhg (F), wangzhe (M), zhaoquanyin (F), ZhaoZuoxiang (M) and
emotions angry, fear, happy, neutral, sad, surprise. No official split.

Accepted at any depth, with speaker and emotion folder names in any letter case
(``zhaozuoxiang/angry/201.wav``, ``ZhaoZuoxiang/Angry/201.wav``); ids use the
speaker's canonical spelling. Rejected: unknown speaker folders or emotions,
other names.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "casia", "zh", "CASIA"
LABELS = {"angry", "fear", "happy", "neutral", "sad", "surprise"}
GENDER = {"liuchanhg": "F", "wangzhe": "M", "zhaoquanyin": "F", "ZhaoZuoxiang": "M"}
CANONICAL = {k.lower(): k for k in GENDER}
LAYOUTS = [r"(?P<spk>[A-Za-z]+)/(?P<emo>[A-Za-z]+)/(?P<num>\d{3})"]
RECORDING_KEY_PARTS = 3  # a recording is speaker/emotion/number: the numbers repeat across folders


def _row(f: Path, m) -> Row:
    spk = CANONICAL.get(m["spk"].lower())
    if spk is None:
        raise Skip(f"unknown CASIA speaker folder '{m['spk']}' (known: {', '.join(GENDER)})")
    emo = check_label(m["emo"].lower(), LABELS, "CASIA")
    return Row(id=f"casia_{spk}_{emo}_{m['num']}", path=f, speaker=f"casia_{spk}", gender=GENDER[spk],
               native=emo, source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "CASIA", _row, flags=re.IGNORECASE)
