"""AESDD, Acted Emotional Speech Dynamic Database (Vryzas et al., 2018), Greek.

Release read: the AESDD v1 download (``Acted Emotional Speech Dynamic Database/``).
Files read: ``<emotion>/<e><NN> (<actor>).wav`` with emotion folders anger,
disgust, fear, happiness, sadness, first letter of the emotion in the file
name, utterance number, and the actor number 1-5 in parentheses. The actors'
genders (2 male, 3 female) follow the database paper. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "aesdd", "el", "AESDD"
FOLDERS = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"}
LABELS = set(FOLDERS)
GENDER = {"1": "F", "2": "M", "3": "F", "4": "M", "5": "F"}
PATTERN = r"([adfhs])(\d\d) \((\d)\)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*/*.wav", PATTERN, "AESDD"):
        emo, num, actor = m.groups()
        if f.parent.name != FOLDERS.get(emo):
            raise CorpusError(f, f"emotion letter '{emo}' does not match folder '{f.parent.name}'")
        yield Row(id=f"aesdd_{emo}{num}_{actor}", path=f, speaker=f"aesdd_{actor}",
                  gender=GENDER.get(actor, "U"), native=check_label(emo, LABELS, f, "AESDD"),
                  source=str(f))


SYNTH = SynthSpec(
    voice="el",
    speakers=[Speaker(s, g) for s, g in GENDER.items()],
    emotions={"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"},
    sentences=[("01", "Καλημέρα, τι κάνεις σήμερα;"), ("02", "Θα φύγουμε αύριο το πρωί."),
               ("03", "Το σπίτι είναι πολύ μεγάλο.")],
)


def wav_path(u):
    return f"{FOLDERS[u.native]}/{u.native}{u.sentence[0]} ({u.speaker.id}).wav"


def write_meta(root: Path, utts):
    pass
