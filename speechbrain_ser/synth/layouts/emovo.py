"""Synthetic emovo layout."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora import emovo as reader

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


def write_meta(root: Path, utts):
    pass
