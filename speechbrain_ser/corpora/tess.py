"""TESS, Toronto emotional speech set (Dupuis & Pichora-Fuller, 2010).

Release read: the University of Toronto Dataverse release. Two female talkers
(OAF aged 64, YAF aged 26) say "Say the word _" for 200 target words in 7
emotions. Files read: ``<SPK>_<emotion>/<SPK>_<word>_<emotion>.wav`` where the
folder spelling varies in the release (e.g. ``OAF_Pleasant_surprise``,
``YAF_pleasant_surprised``) but the file suffix is one of angry, disgust, fear,
happy, neutral, ps, sad. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "tess", "en", "TESS"
LABELS = {"angry", "disgust", "fear", "happy", "neutral", "ps", "sad"}
FOLDERS = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
           "neutral": "neutral", "ps": "Pleasant_surprise", "sad": "Sad"}
PATTERN = r"(OAF|YAF)_([a-z]+)_([a-z]+)\.wav"
WORDS = ["back", "bar", "base", "bath", "bean", "beg", "bite", "boat", "bone", "book"]


def prepare(root: Path):
    for f, m in match_files(root, "*_*/*.wav", PATTERN, "TESS"):
        spk, word, emo = m.groups()
        yield Row(id=f"tess_{f.stem}", path=f, speaker=f"tess_{spk}", gender="F",
                  native=check_label(emo, LABELS, f, "TESS"), source=str(f),
                  transcript=f"Say the word {word}")


SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker("OAF", "F"), Speaker("YAF", "F")],
    emotions={"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
              "neutral": "neutral", "ps": "pleasant_surprise", "sad": "sadness"},
    sentences=[(w, f"Say the word {w}") for w in WORDS],
)


def wav_path(u):
    return f"{u.speaker.id}_{FOLDERS[u.native]}/{u.speaker.id}_{u.sentence[0]}_{u.native}.wav"


def write_meta(root: Path, utts):
    pass
