"""Synthetic urdu layout."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora import urdu as reader

SYNTH = SynthSpec(
    voice="ur",
    speakers=[Speaker(f"{g}{i}", g) for i, g in enumerate("MFMFMF", 1)],
    emotions={"Angry": "anger", "Happy": "happiness", "Neutral": "neutral", "Sad": "sadness"},
    sentences=[("1", "میں آج گھر جا رہا ہوں۔"), ("2", "یہ بات بہت اہم ہے۔"), ("3", "کل بارش ہوگی۔")],
)


def wav_path(u):
    g, n = u.speaker.id[0], u.speaker.id[1:]
    return f"{u.native}/S{g}{n}_F{u.sentence[0]}_{u.native[0]}{u.take:02d}{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
