"""Synthetic tess in its release layout, read back by ``corpora/tess.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

FOLDERS = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
           "neutral": "neutral", "ps": "Pleasant_surprise", "sad": "Sad"}  # the release's folder spellings vary
WORDS = ["back", "bar", "base", "bath", "bean", "beg", "bite", "boat", "bone", "book"]

SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker("OAF", "F"), Speaker("YAF", "F")],
    emotions={"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
              "neutral": "neutral", "ps": "pleasant_surprise", "sad": "sadness"},
    sentences=[(w, f"Say the word {w}") for w in WORDS],
)


def wav_path(u):
    return f"{u.speaker.id}_{FOLDERS[u.native]}/{u.speaker.id}_{u.sentence[0]}_{u.native}.wav"
