"""URDU emotional speech (Latif et al., 2018): talk-show clips in 4 emotions.

Release read: the GitHub release (``URDU-Dataset``). Files read:
``<Emotion>/S<G><N>_F<K>_<E><NNN>.wav`` with emotion folders Angry, Happy,
Neutral, Sad; ``S<G><N>`` = speaker (G = M/F, N = number), ``F<K>`` = file
group, ``<E>`` = first letter of the emotion. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "urdu", "ur", "URDU"
LABELS = {"Angry", "Happy", "Neutral", "Sad"}
PATTERN = r"S([MF])(\d+)_F(\d+)_([AHNS])(\d+)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*/*.wav", PATTERN, "URDU"):
        g, num, _, letter, _ = m.groups()
        emo = f.parent.name
        if emo[:1] != letter:
            raise CorpusError(f, f"emotion letter '{letter}' does not match folder '{emo}'")
        yield Row(id=f"urdu_{f.stem}", path=f, speaker=f"urdu_S{g}{num}", gender=g,
                  native=check_label(emo, LABELS, f, "URDU"), source=str(f))


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
