"""Synthetic crema_d in its release layout, read back by ``corpora/crema_d.py``."""
from __future__ import annotations

from pathlib import Path

from . import Speaker, SynthSpec
from ...corpora.base import write_csv
from ...corpora import crema_d as reader

SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker(f"{1001 + i}", "MF"[i % 2]) for i in range(8)],
    emotions={"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness",
              "NEU": "neutral", "SAD": "sadness"},
    sentences=list(reader.SENTENCES.items()),
    intensities={"LO": 0.55, "MD": 0.75, "HI": 0.95, "XX": 0.8},
)


def choose_intensity(native, sentence_code, k):
    """As in the release: only IEO carries LO/MD/HI; neutral and the rest are XX."""
    if native == "NEU" or sentence_code != "IEO":
        return "XX"
    return ("LO", "MD", "HI")[k % 3]


def wav_path(u):
    return f"AudioWAV/{u.speaker.id}_{u.sentence[0]}_{u.native}_{u.intensity}.wav"


def write_meta(root: Path, utts):
    spk = sorted({(u.speaker.id, u.speaker.gender) for u in utts})
    write_csv(root / "VideoDemographics.csv", ["ActorID", "Age", "Sex", "Race", "Ethnicity"],
              [[s, 30, {"F": "Female", "M": "Male"}[g], "Unknown", "Not Hispanic"] for s, g in spk])
