"""EMOVO Italian emotional speech (Costantini et al., LREC 2014): 6 actors, 7 emotions.

Release read: the EMOVO distribution. Files read: ``<spk>/<emo>-<spk>-<sent>.wav``
with speakers f1-f3 / m1-m3, emotions dis (disgusto), gio (gioia), neu, pau
(paura), rab (rabbia), sor (sorpresa), tri (tristezza) and sentence codes
b1-b3, l1-l4, n1-n5, d1-d2. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "emovo", "it", "EMOVO"
LABELS = {"dis", "gio", "neu", "pau", "rab", "sor", "tri"}
PATTERN = r"([a-z]{3})-([fm][1-3])-([a-z]\d)\.wav"


def prepare(root: Path):
    for f, m in match_files(root, "*/*.wav", PATTERN, "EMOVO"):
        emo, spk, sent = m.groups()
        yield Row(id=f"emovo_{f.stem}", path=f, speaker=f"emovo_{spk}", gender=spk[0].upper(),
                  native=check_label(emo, LABELS, f, "EMOVO"), source=str(f))


SYNTH = SynthSpec(
    voice="it",
    speakers=[Speaker(s, s[0].upper()) for s in ("f1", "m1", "f2", "m2", "f3", "m3")],
    emotions={"dis": "disgust", "gio": "happiness", "neu": "neutral", "pau": "fear",
              "rab": "anger", "sor": "surprise", "tri": "sadness"},
    sentences=[("b1", "Gli operai si alzano presto."), ("b2", "I vigili sono muniti di pistola."),
               ("l1", "La casa forte vuole col pane.")],
)


def wav_path(u):
    return f"{u.speaker.id}/{u.native}-{u.speaker.id}-{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
