"""Synthetic casia in its release layout, read back by ``corpora/casia.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec
from ...corpora import casia as reader

SYNTH = SynthSpec(
    voice="cmn",
    speakers=[Speaker(s, g) for s, g in reader.GENDER.items()],
    emotions={e: {"angry": "anger", "fear": "fear", "happy": "happiness", "neutral": "neutral",
                  "sad": "sadness", "surprise": "surprise"}[e] for e in sorted(reader.LABELS)},
    sentences=[("201", "我们一起去看电影吧。"), ("202", "这件事情你知道吗？"), ("203", "火车马上就要开了。")],
)


def wav_path(u):
    return f"{u.speaker.id}/{u.native}/{u.sentence[0]}.wav"
