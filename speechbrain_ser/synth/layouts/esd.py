"""Synthetic esd in its release layout, read back by ``corpora/esd.py``."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora import esd as reader

SYNTH = SynthSpec(
    voice="cmn",
    speakers=[Speaker(s, reader.GENDER[s]) for s in ("0001", "0004", "0011", "0012", "0003", "0015")],
    emotions={"Angry": "anger", "Happy": "happiness", "Neutral": "neutral", "Sad": "sadness",
              "Surprise": "surprise"},
    sentences=[("1", "今天天气很好。"), ("2", "我们明天再说吧。"), ("3", "他已经回家了。")],
)
EN_SENTENCES = {"1": "The nine the eggs I keep.", "2": "We will talk about it tomorrow.",
                "3": "He has already gone home."}


def voice_for(u):
    return "cmn" if reader.language_of(u.speaker.id) == "zh" else "en-us"


def text_for(u):
    return u.sentence[1] if reader.language_of(u.speaker.id) == "zh" else EN_SENTENCES[u.sentence[0]]


def choose_split(k):
    return ("train", "train", "evaluation", "test")[k % 4]


def wav_path(u):
    return f"{u.speaker.id}/{u.native}/{u.extra['split']}/{u.speaker.id}_{u.index:06d}.wav"


def write_meta(root: Path, utts):
    by_spk = {}
    for u in utts:
        by_spk.setdefault(u.speaker.id, []).append(u)
    for spk, us in by_spk.items():
        lines = [f"{spk}_{u.index:06d}\t{text_for(u)}\t{u.native}" for u in sorted(us, key=lambda u: u.index)]
        (root / spk / f"{spk}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
