"""EmoDB, Berlin Database of Emotional Speech (Burkhardt et al., 2005), German.

Release read: the emodb.bilderbar.info download (``wav/``, 535 files). File names
``<SS><TTT><E><V>.wav``: speaker 03, 08-16 (male 03, 10, 11, 12, 15; female 08,
09, 13, 14, 16), text code a01, a02, a04, a05, a07, b01, b02, b03, b09, b10,
emotion letter W (Ärger/anger), L (Langeweile/boredom), E (Ekel/disgust),
A (Angst/fear), F (Freude), T (Trauer), N (neutral), version letter. Every text
code has its transcript below. No official split.

Accepted at any depth (``wav/`` or flat). Rejected: unknown speakers, emotion
letters or text codes, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "emodb", "de", "EmoDB"
LABELS = {"W", "L", "E", "A", "F", "T", "N"}
MALE, FEMALE = {"03", "10", "11", "12", "15"}, {"08", "09", "13", "14", "16"}
TEXTS = {"a01": "Der Lappen liegt auf dem Eisschrank.",
         "a02": "Das will sie am Mittwoch abgeben.",
         "a04": "Heute abend könnte ich es ihm sagen.",
         "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
         "a07": "In sieben Stunden wird es soweit sein.",
         "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
         "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
         "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
         "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
         "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen."}
LAYOUTS = [r"(?P<spk>\d\d)(?P<text>[ab]\d\d)(?P<emo>[A-Z])(?P<ver>[a-z])"]


def _row(f: Path, m) -> Row:
    spk = m["spk"]
    if spk not in MALE | FEMALE:
        raise Skip(f"unknown EmoDB speaker {spk}")
    if m["text"] not in TEXTS:
        raise Skip(f"unknown EmoDB text code {m['text']}")
    return Row(id=f"emodb_{f.stem}", path=f, speaker=f"emodb_{spk}", gender="M" if spk in MALE else "F",
               native=check_label(m["emo"], LABELS, "EmoDB"), source=str(f), transcript=TEXTS[m["text"]])


def prepare(root: Path):
    return each_file(root, LAYOUTS, "EmoDB", _row)
