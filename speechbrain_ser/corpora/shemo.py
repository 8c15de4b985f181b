"""ShEMO, Sharif Emotional Speech Database (Mohamad Nezami et al., 2019), Persian.

Release read: the GitHub release (``female.zip``/``male.zip`` unpacked).
Files read: ``female/F<SS><E><NN>.wav`` and ``male/M<SS><E><NN>.wav``: gender,
2-digit speaker, emotion letter A (anger), F (fear), H (happiness), N (neutral),
S (sadness), W (surprise), utterance number. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "shemo", "fa", "ShEMO"
LABELS = {"A", "F", "H", "N", "S", "W"}
PATTERN = r"([FM])(\d\d)([A-Z])(\d\d)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*/*.wav", PATTERN, "ShEMO"):
        g, spk, emo, _ = m.groups()
        if f.parent.name != {"F": "female", "M": "male"}[g]:
            raise CorpusError(f, f"gender letter {g} does not match folder '{f.parent.name}'")
        yield Row(id=f"shemo_{f.stem}", path=f, speaker=f"shemo_{g}{spk}", gender=g,
                  native=check_label(emo, LABELS, f, "ShEMO"), source=str(f))


SYNTH = SynthSpec(
    voice="fa",
    speakers=[Speaker(f"{i + 1:02d}", "FM"[i % 2]) for i in range(6)],
    emotions={"A": "anger", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness",
              "W": "surprise"},
    sentences=[("01", "امروز هوا خیلی خوب است."), ("02", "فردا به خانه برمی‌گردیم."),
               ("03", "این کتاب را دیروز خریدم.")],
)


def wav_path(u):
    g = u.speaker.gender
    return f"{'female' if g == 'F' else 'male'}/{g}{u.speaker.id}{u.native}{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
