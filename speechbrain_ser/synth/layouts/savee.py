"""Synthetic savee layout."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora import savee as reader

SENTENCES = [("01", "She had your dark suit in greasy wash water all year"),
             ("02", "Don't ask me to carry an oily rag like that"),
             ("03", "Will you tell me why"),
             ("04", "Who authorized the unlimited expense account")]

SYNTH = SynthSpec(
    voice="en-gb",
    speakers=[Speaker(s, "M") for s in ("DC", "JE", "JK", "KL")],
    emotions={"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral",
              "sa": "sadness", "su": "surprise"},
    sentences=SENTENCES,
)


def wav_path(u):
    return f"AudioData/{u.speaker.id}/{u.native}{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
