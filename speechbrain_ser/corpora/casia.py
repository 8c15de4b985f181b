"""CASIA Chinese emotional corpus (Institute of Automation, CAS): 4 speakers, 6 emotions.

Release read: the public 6-emotion subset (1200 utterances, 50 sentences per
speaker and emotion). Files read: ``<speaker>/<emotion>/<NNN>.wav`` with
speakers liuchanhg (F), wangzhe (M), zhaoquanyin (F), ZhaoZuoxiang (M) and
emotions angry, fear, happy, neutral, sad, surprise. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "casia", "zh", "CASIA"
LABELS = {"angry", "fear", "happy", "neutral", "sad", "surprise"}
GENDER = {"liuchanhg": "F", "wangzhe": "M", "zhaoquanyin": "F", "ZhaoZuoxiang": "M"}
PATTERN = r"(\d{3})\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*/*/*.wav", PATTERN, "CASIA"):
        spk, emo = f.parent.parent.name, f.parent.name
        if spk not in GENDER:
            raise CorpusError(f, f"unknown CASIA speaker folder '{spk}'")
        yield Row(id=f"casia_{spk}_{emo}_{m.group(1)}", path=f, speaker=f"casia_{spk}",
                  gender=GENDER[spk], native=check_label(emo, LABELS, f, "CASIA"), source=str(f))


SYNTH = SynthSpec(
    voice="cmn",
    speakers=[Speaker(s, g) for s, g in GENDER.items()],
    emotions={e: {"angry": "anger", "fear": "fear", "happy": "happiness", "neutral": "neutral",
                  "sad": "sadness", "surprise": "surprise"}[e] for e in sorted(LABELS)},
    sentences=[("201", "我们一起去看电影吧。"), ("202", "这件事情你知道吗？"), ("203", "火车马上就要开了。")],
)


def wav_path(u):
    return f"{u.speaker.id}/{u.native}/{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
