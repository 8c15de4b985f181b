"""Synthetic aesdd in its release layout, read back by ``corpora/aesdd.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec
from ...corpora import aesdd as reader

GENDER = {"1": "F", "2": "M", "3": "F", "4": "M", "5": "F"}  # synthetic voices (the release documents none per actor)

SYNTH = SynthSpec(
    voice="el",
    speakers=[Speaker(s, g) for s, g in GENDER.items()],
    emotions={"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "s": "sadness"},
    sentences=[("01", "Καλημέρα, τι κάνεις σήμερα;"), ("02", "Θα φύγουμε αύριο το πρωί."),
               ("03", "Το σπίτι είναι πολύ μεγάλο.")],
)


def wav_path(u):
    return f"{reader.FOLDERS[u.native]}/{u.native}{u.sentence[0]} ({u.speaker.id}).wav"
