"""SUBESCO, SUST Bangla Emotional Speech Corpus (Sultana et al., 2021).

Release read: the Zenodo release (single folder of wav files). Files read:
``<G>_<SS>_<NAME>_S_<K>_<EMOTION>_<T>.wav``: gender F/M, speaker number,
speaker name, sentence number K (1-10), emotion ANGRY, DISGUST, FEAR, HAPPY,
NEUTRAL, SAD, SURPRISE, take T (1-5). No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "subesco", "bn", "SUBESCO"
LABELS = {"ANGRY", "DISGUST", "FEAR", "HAPPY", "NEUTRAL", "SAD", "SURPRISE"}
PATTERN = r"([FM])_(\d\d)_([A-Z]+)_S_(\d+)_([A-Z]+)_(\d)\.wav"
NAMES = ["MONIKA", "RAHIM", "NADIA", "KARIM", "SHIMU", "JAMAL"]


def prepare(root: Path):
    for f, m in match_files(root, "*.wav", PATTERN, "SUBESCO"):
        g, num, name, sent, emo, take = m.groups()
        yield Row(id=f"subesco_{f.stem}", path=f, speaker=f"subesco_{g}_{num}", gender=g,
                  native=check_label(emo, LABELS, f, "SUBESCO"), source=str(f))


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


def write_meta(root: Path, utts):
    pass
