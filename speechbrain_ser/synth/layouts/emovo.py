"""Synthetic emovo in its release layout, read back by ``corpora/emovo.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

SYNTH = SynthSpec(
    voice="it",
    speakers=[Speaker(s, s[0].upper()) for s in ("f1", "m1", "f2", "m2", "f3", "m3")],
    emotions={"dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear",
              "rab": "anger", "sor": "surprise", "tri": "sadness"},
    sentences=[("b1", "Gli operai si alzano presto."), ("b2", "I vigili sono muniti di pistola."),
               ("l1", "La casa forte vuole col pane.")],
)


def wav_path(u):
    return f"{u.speaker.id}/{u.native}-{u.speaker.id}-{u.sentence[0]}.wav"
