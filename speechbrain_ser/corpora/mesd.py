"""MESD, Mexican Emotional Speech Database (Duville et al., 2021), Mexican Spanish.

Release read: the Mendeley Data release (single folder of wav files).
Files read: ``<Emotion>_<Voice>_<Corpus>_<word>.wav``: Emotion Anger, Disgust,
Fear, Happiness, Neutral, Sadness; Voice F (female adult), M (male adult),
C (child); Corpus A or B (word lists). Speakers are not identified beyond the
voice type, so the voice type is the speaker. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "mesd", "es", "MESD"
LABELS = {"Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness"}
PATTERN = r"([A-Za-z]+)_([FMC])_([AB])_(\w+)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*.wav", PATTERN, "MESD"):
        emo, voice, corpus, word = m.groups()
        yield Row(id=f"mesd_{f.stem}", path=f, speaker=f"mesd_{voice}{corpus}",
                  gender={"F": "F", "M": "M", "C": "U"}[voice],
                  native=check_label(emo, LABELS, f, "MESD"), source=str(f), transcript=word)


SYNTH = SynthSpec(
    voice="es-419",
    speakers=[Speaker("F", "F"), Speaker("M", "M"), Speaker("C", "U")],
    emotions={"Anger": "anger", "Disgust": "disgust", "Fear": "fear", "Happiness": "happiness",
              "Neutral": "neutral", "Sadness": "sadness"},
    sentences=[("abajo", "abajo"), ("adiós", "adiós"), ("agua", "agua"), ("amigo", "amigo"),
               ("ayer", "ayer"), ("bonito", "bonito")],
)


def wav_path(u):
    corpus = "A" if u.take % 2 else "B"
    return f"{u.native}_{u.speaker.id}_{corpus}_{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
