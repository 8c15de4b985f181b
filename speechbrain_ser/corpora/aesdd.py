"""AESDD, Acted Emotional Speech Dynamic Database (Vryzas et al., 2018), Greek.

Release read: the AESDD download (``Acted Emotional Speech Dynamic Database/``),
five folders anger, disgust, fear, happiness, sadness. File names
``<e><NN> (<actor>).wav`` per the release README: first letter of the emotion,
utterance number (01-20), actor number in parentheses. No official split.

Real copies also hold retakes and zero-padded actor numbers, all accepted:
``a06 (5)b.wav`` / ``s01 (5)a.wav`` (a take letter after the parenthesis: a
separate utterance, id ``aesdd_a06_5b``), ``d03 (01).wav`` (actor 1), and actors
beyond the first five (``a01 (6).wav``): the database is "dynamic" and the README
says actors were added later under the same naming scheme.

Gender: the README gives only totals for v1 (3 female and 2 male actors) and
nothing for the actors added later; it never says which number is which, so
every AESDD speaker has gender U rather than a guessed one.
Accepted at any depth; rejected: a letter that contradicts its emotion folder,
other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "aesdd", "el", "AESDD"
FOLDERS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"}
LABELS = set(FOLDERS)
LAYOUTS = [r"(?P<emo>[a-z])(?P<num>\d\d) ?\((?P<actor>\d+)\)(?P<take>[a-z]?)"]


def _row(f: Path, m) -> Row:
    emo = check_label(m["emo"], LABELS, "AESDD")
    if f.parent.name.lower() in FOLDERS.values() and f.parent.name.lower() != FOLDERS[emo]:
        raise Skip(f"emotion letter '{emo}' in the '{f.parent.name}' folder")
    actor = int(m["actor"])
    return Row(id=f"aesdd_{emo}{m['num']}_{actor}{m['take']}", path=f, speaker=f"aesdd_{actor}",
               gender="U", native=emo, source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "AESDD", _row)
