"""Synthetic shemo in its release layout, read back by ``corpora/shemo.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

SYNTH = SynthSpec(
    voice="fa",
    speakers=[Speaker(f"{i + 1:02d}", "FM"[i % 2]) for i in range(6)],
    emotions={"A": "anger", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness",
              "W": "surprise"},
    sentences=[("01", "امروز هوا خیلی خوب است."), ("02", "فردا به خانه برمی‌گردیم."),
               ("03", "این کتاب را دیروز خریدم.")],
)


def wav_path(u):
    g = u.speaker.gender
    return f"{'female' if g == 'F' else 'male'}/{g}{u.speaker.id}{u.native}{u.sentence[0]}.wav"
