"""Synthetic emodb in its release layout, read back by ``corpora/emodb.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec
from ...corpora import emodb as reader

TEXTS = {k: reader.TEXTS[k] for k in ("a01", "a02", "a04", "a07", "b01", "b10")}

SYNTH = SynthSpec(
    voice="de",
    speakers=[Speaker(s, "M" if s in reader.MALE else "F") for s in ("03", "08", "10", "09", "11", "13")],
    emotions={"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness",
              "T": "sadness", "N": "neutral"},
    sentences=list(TEXTS.items()),
)


def wav_path(u):
    return f"wav/{u.speaker.id}{u.sentence[0]}{u.native}{'abcd'[u.take - 1]}.wav"
