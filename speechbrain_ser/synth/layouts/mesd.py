"""Synthetic mesd in its release layout, read back by ``corpora/mesd.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

SYNTH = SynthSpec(
    voice="es-419",
    speakers=[Speaker("F", "F"), Speaker("M", "M"), Speaker("C", "U")],
    emotions={"Anger": "anger", "Disgust": "disgust", "Fear": "fear", "Happiness": "happiness",
              "Neutral": "neutral", "Sadness": "sadness"},
    sentences=[("abajo", "abajo"), ("adiós", "adiós"), ("agua", "agua"), ("amigo", "amigo"),
               ("ayer", "ayer"), ("bonito", "bonito")],
)


def wav_path(u):
    corpus = "A" if u.take % 2 else "B"
    return f"{u.native}_{u.speaker.id}_{corpus}_{u.sentence[0]}.wav"
