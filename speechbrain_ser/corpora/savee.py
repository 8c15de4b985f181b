"""SAVEE, Surrey Audio-Visual Expressed Emotion (Jackson & Haq, 2014).

Release read: ``AudioData/`` of the SAVEE download. Four male speakers (DC, JE,
JK, KL), British English, TIMIT sentences. Files read:
``AudioData/<SPK>/<code><NN>.wav`` with code a (anger), d (disgust), f (fear),
h (happiness), n (neutral), sa (sadness), su (surprise). No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "savee", "en", "SAVEE"
LABELS = {"a", "d", "f", "h", "n", "sa", "su"}
PATTERN = r"(sa|su|[adfhn])(\d\d)\.wav"
SENTENCES = [("01", "She had your dark suit in greasy wash water all year"),
             ("02", "Don't ask me to carry an oily rag like that"),
             ("03", "Will you tell me why"),
             ("04", "Who authorized the unlimited expense account")]


def prepare(root: Path):
    for f, m in match_files(root / "AudioData", "*/*.wav", PATTERN, "SAVEE"):
        code, num = m.groups()
        spk = f.parent.name
        yield Row(id=f"savee_{spk}_{f.stem}", path=f, speaker=f"savee_{spk}", gender="M",
                  native=check_label(code, LABELS, f, "SAVEE"), source=str(f))


SYNTH = SynthSpec(
    voice="en-gb",
    speakers=[Speaker(s, "M") for s in ("DC", "JE", "JK", "KL")],
    emotions={"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral",
              "sa": "sadness", "su": "surprise"},
    sentences=SENTENCES,
)


def wav_path(u):
    return f"AudioData/{u.speaker.id}/{u.native}{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
