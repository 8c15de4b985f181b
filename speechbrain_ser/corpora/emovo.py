"""EMOVO Italian emotional speech (Costantini et al., LREC 2014): 6 actors, 7 emotions.

Release read: the EMOVO distribution (``EMOVO/<spk>/`` folders). File names
``<emo>-<spk>-<sent>.wav`` with speakers f1-f3 / m1-m3, emotions dis (disgusto),
gio (gioia), neu, pau (paura), rab (rabbia), sor (sorpresa), tri (tristezza) and
sentence codes b1-b3, l1-l4, n1-n5, d1-d2. No official split.

Accepted at any depth (speaker folders or flat); the speaker comes from the file
name. Rejected: unknown emotion codes, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "emovo", "it", "EMOVO"
LABELS = {"dis", "gio", "neu", "pau", "rab", "sor", "tri"}
LAYOUTS = [r"(?P<emo>[a-z]{3})-(?P<spk>[fm][1-3])-(?P<sent>[a-z]\d)"]


def _row(f: Path, m) -> Row:
    return Row(id=f"emovo_{f.stem}", path=f, speaker=f"emovo_{m['spk']}", gender=m["spk"][0].upper(),
               native=check_label(m["emo"], LABELS, "EMOVO"), source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "EMOVO", _row)
