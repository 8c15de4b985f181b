"""Synthetic subesco in its release layout, read back by ``corpora/subesco.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

NAMES = ["MONIKA", "RAHIM", "NADIA", "KARIM", "SHIMU", "JAMAL"]

SYNTH = SynthSpec(
    voice="bn",
    speakers=[Speaker(f"{i + 1:02d}", "FM"[i % 2]) for i in range(6)],
    emotions={"ANGRY": "anger", "DISGUST": "disgust", "FEAR": "fear", "HAPPY": "happiness",
              "NEUTRAL": "neutral", "SAD": "sadness", "SURPRISE": "surprise"},
    sentences=[("1", "আমি আজ বাড়ি যাচ্ছি।"), ("2", "কাল বৃষ্টি হবে।"), ("3", "এই বইটা খুব ভালো।")],
)


def wav_path(u):
    name = NAMES[int(u.speaker.id) - 1]
    return f"{u.speaker.gender}_{u.speaker.id}_{name}_S_{u.sentence[0]}_{u.native}_{u.take}.wav"
