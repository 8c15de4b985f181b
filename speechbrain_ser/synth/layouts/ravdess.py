"""Synthetic ravdess in its release layout, read back by ``corpora/ravdess.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec
from ...corpora import ravdess as reader

SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker(f"{i + 1:02d}", "MF"[i % 2]) for i in range(8)],
    emotions={"neutral": "neutral", "calm": "calm", "happy": "happiness", "sad": "sadness",
              "angry": "anger", "fearful": "fear", "disgust": "disgust", "surprised": "surprise"},
    sentences=list(reader.STATEMENTS.items()),
    intensities={"normal": 0.7, "strong": 0.95},
)


def choose_intensity(native, sentence_code, k):
    return "normal" if native == "neutral" else ("normal", "strong")[k % 2]


def wav_path(u):
    code = {v: k for k, v in reader.EMOTIONS.items()}[u.native]
    inten = {"normal": "01", "strong": "02"}[u.intensity]
    return f"Actor_{u.speaker.id}/03-01-{code}-{inten}-{u.sentence[0]}-{u.take:02d}-{u.speaker.id}.wav"
