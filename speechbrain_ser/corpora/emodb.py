"""EmoDB, Berlin Database of Emotional Speech (Burkhardt et al., 2005), German.

Release read: emodb.bilderbar.info download (``wav/``). Files read:
``wav/<SS><TTT><E><V>.wav``: speaker 03,08-16 (male 03,10,11,12,15; female
08,09,13,14,16), text code a01-a07/b01-b10, emotion letter W (Ärger/anger),
L (Langeweile/boredom), E (Ekel/disgust), A (Angst/fear), F (Freude),
T (Trauer), N (neutral), version letter. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "emodb", "de", "EmoDB"
LABELS = {"W", "L", "E", "A", "F", "T", "N"}
MALE = {"03", "10", "11", "12", "15"}
PATTERN = r"(\d\d)([ab]\d\d)([A-Z])([a-z])\.wav"
TEXTS = {"a01": "Der Lappen liegt auf dem Eisschrank.", "a02": "Das will sie am Mittwoch abgeben.",
         "a04": "Heute abend könnte ich es ihm sagen.", "a07": "In sieben Stunden wird es soweit sein.",
         "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
         "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen."}


def prepare(root: Path):
    for f, m in match_files(root / "wav", "*.wav", PATTERN, "EmoDB"):
        spk, text, emo, _ = m.groups()
        yield Row(id=f"emodb_{f.stem}", path=f, speaker=f"emodb_{spk}",
                  gender="M" if spk in MALE else "F", native=check_label(emo, LABELS, f, "EmoDB"),
                  source=str(f), transcript=TEXTS.get(text))


SYNTH = SynthSpec(
    voice="de",
    speakers=[Speaker(s, "M" if s in MALE else "F") for s in ("03", "08", "10", "09", "11", "13")],
    emotions={"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness",
              "T": "sadness", "N": "neutral"},
    sentences=list(TEXTS.items()),
)


def wav_path(u):
    return f"wav/{u.speaker.id}{u.sentence[0]}{u.native}{'abcd'[u.take - 1]}.wav"


def write_meta(root: Path, utts):
    pass
