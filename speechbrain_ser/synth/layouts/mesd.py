"""Synthetic mesd layout."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora import mesd as reader

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


def write_meta(root: Path, utts):
    pass
