"""Synthetic urdu in its release layout, read back by ``corpora/urdu.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec

SYNTH = SynthSpec(
    voice="ur",
    speakers=[Speaker(f"{g}{i}", g) for i, g in enumerate("MFMFMF", 1)],
    emotions={"Angry": "anger", "Happy": "happiness", "Neutral": "neutral", "Sad": "sadness"},
    sentences=[("1", "میں آج گھر جا رہا ہوں۔"), ("2", "یہ بات بہت اہم ہے۔"), ("3", "کل بارش ہوگی۔")],
)


def wav_path(u):
    g, n = u.speaker.id[0], u.speaker.id[1:]
    return f"{u.native}/S{g}{n}_F{u.sentence[0]}_{u.native[0]}{u.take:02d}{u.sentence[0]}.wav"
