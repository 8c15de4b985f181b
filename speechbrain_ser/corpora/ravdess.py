"""RAVDESS speech (Livingstone & Russo, 2018): 24 actors, 8 emotions, 2 intensities.

Release read: ``Audio_Speech_Actors_01-24.zip`` unpacked (``Actor_NN/`` folders).
Files read: ``Actor_NN/MM-VV-EE-II-SS-RR-AA.wav``: modality (03 audio-only),
vocal channel (01 speech), emotion (01 neutral .. 08 surprised), intensity
(01 normal, 02 strong; neutral has no strong), statement (01 "Kids are talking
by the door", 02 "Dogs are sitting by the door"), repetition, actor (odd male,
even female). No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "ravdess", "en", "RAVDESS"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
            "06": "fearful", "07": "disgust", "08": "surprised"}
LABELS = set(EMOTIONS.values())
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
PATTERN = r"03-01-(\d\d)-(0[12])-(0[12])-(0[12])-(\d\d)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "Actor_*/*.wav", PATTERN, "RAVDESS"):
        emo, inten, stmt, rep, actor = m.groups()
        native = check_label(EMOTIONS.get(emo, emo), LABELS, f, "RAVDESS")
        yield Row(id=f"ravdess_{f.stem}", path=f, speaker=f"ravdess_{actor}",
                  gender="M" if int(actor) % 2 else "F", native=native, source=str(f),
                  intensity={"01": "normal", "02": "strong"}[inten], transcript=STATEMENTS[stmt])


SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker(f"{i + 1:02d}", "MF"[i % 2]) for i in range(8)],
    emotions={"neutral": "neutral", "calm": "calm", "happy": "happiness", "sad": "sadness",
              "angry": "anger", "fearful": "fear", "disgust": "disgust", "surprised": "surprise"},
    sentences=list(STATEMENTS.items()),
    intensities={"normal": 0.7, "strong": 0.95},
)


def choose_intensity(native, sentence_code, k):
    return "normal" if native == "neutral" else ("normal", "strong")[k % 2]


def wav_path(u):
    code = {v: k for k, v in EMOTIONS.items()}[u.native]
    inten = {"normal": "01", "strong": "02"}[u.intensity]
    return f"Actor_{u.speaker.id}/03-01-{code}-{inten}-{u.sentence[0]}-{u.take:02d}-{u.speaker.id}.wav"


def write_meta(root: Path, utts):
    pass  # everything is in the file names
