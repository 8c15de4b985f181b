"""SAVEE, Surrey Audio-Visual Expressed Emotion (Jackson & Haq, 2014).

Release read: ``AudioData/`` of the SAVEE download. Four male speakers (DC, JE,
JK, KL), British English, TIMIT sentences. Emotion codes a (anger), d (disgust),
f (fear), h (happiness), n (neutral; n01-n30), sa (sadness), su (surprise), each
with a two-digit sentence number. No official split.

Accepted at any depth: the release's ``AudioData/JE/n23.wav`` (speaker folder)
and the flat names of the common re-packs, ``JE_n23.wav`` (e.g. under ``ALL/``).
Both give the id ``savee_JE_n23``, so a copy holding both layouts lists the
second as a duplicate. Rejected: other speakers or codes, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "savee", "en", "SAVEE"
LABELS = {"a", "d", "f", "h", "n", "sa", "su"}
LAYOUTS = [r"(?P<spk>DC|JE|JK|KL)/(?P<code>sa|su|[a-z])(?P<num>\d\d)",
           r"(?P<spk>DC|JE|JK|KL)_(?P<code>sa|su|[a-z])(?P<num>\d\d)"]


def _row(f: Path, m) -> Row:
    spk, code, num = m["spk"], m["code"], m["num"]
    return Row(id=f"savee_{spk}_{code}{num}", path=f, speaker=f"savee_{spk}", gender="M",
               native=check_label(code, LABELS, "SAVEE"), source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "SAVEE", _row)
