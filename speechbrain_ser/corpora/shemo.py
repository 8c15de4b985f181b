"""ShEMO, Sharif Emotional Speech Database (Mohamad Nezami et al., 2019), Persian.

Release read: the GitHub release (``female.zip``/``male.zip`` unpacked into
``female/`` and ``male/``). File names ``<G><SS><E><NN>.wav``: gender F/M,
2-digit speaker, emotion letter A (anger), F (fear), H (happiness), N (neutral),
S (sadness), W (surprise), utterance number. No official split.

Accepted at any depth (the two folders, one merged folder, or a ``ShEMO/``
wrapper); the gender letter of the name is authoritative. Rejected: a file in a
``female``/``male`` folder whose letter says otherwise, unknown emotion letters,
other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "shemo", "fa", "ShEMO"
LABELS = {"A", "F", "H", "N", "S", "W"}
LAYOUTS = [r"(?P<g>[FM])(?P<spk>\d\d)(?P<emo>[A-Z])(?P<num>\d\d)"]


def _row(f: Path, m) -> Row:
    folder = {"female": "F", "male": "M"}.get(f.parent.name.lower())
    if folder and folder != m["g"]:
        raise Skip(f"gender letter {m['g']} in the '{f.parent.name}' folder")
    return Row(id=f"shemo_{f.stem}", path=f, speaker=f"shemo_{m['g']}{m['spk']}", gender=m["g"],
               native=check_label(m["emo"], LABELS, "ShEMO"), source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "ShEMO", _row)
