"""Synthetic savee in its release layout, read back by ``corpora/savee.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

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
