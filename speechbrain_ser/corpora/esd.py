"""ESD, Emotional Speech Dataset (Zhou et al., 2021): 10 Mandarin + 10 English speakers.

Release read: ``Emotional Speech Dataset (ESD)`` v1 as distributed on GitHub.
Files read: ``<SPK>/<Emotion>/<split>/<SPK>_<NNNNNN>.wav`` with speakers 0001-0010
Mandarin and 0011-0020 English, emotions Angry/Happy/Neutral/Sad/Surprise and the
official split folders ``train``/``evaluation``/``test``; ``<SPK>/<SPK>.txt``
(tab-separated ``id<TAB>text<TAB>emotion``) for transcripts. Gender is not in
the release files; it comes from the table below (the release README).
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "esd", "zh", "ESD"
LABELS = {"Angry", "Happy", "Neutral", "Sad", "Surprise"}
GENDER = {"0001": "F", "0002": "F", "0003": "F", "0004": "M", "0005": "M", "0006": "M",
          "0007": "F", "0008": "M", "0009": "F", "0010": "M", "0011": "M", "0012": "M",
          "0013": "M", "0014": "M", "0015": "F", "0016": "F", "0017": "F", "0018": "F",
          "0019": "F", "0020": "M"}
SPLITS = {"train": "train", "evaluation": "dev", "test": "test"}
PATTERN = r"(\d{4})_(\d{6})\.wav"


def language_of(speaker: str) -> str:
    return "zh" if int(speaker) <= 10 else "en"


def prepare(root: Path):
    texts = {}
    for t in sorted(root.glob("*/*.txt")):
        for n, line in enumerate(t.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise CorpusError(t, "expected id<TAB>text<TAB>emotion", n)
            texts[parts[0]] = parts[1]
    for f, m in match_files(root, "*/*/*/*.wav", PATTERN, "ESD"):
        spk = m.group(1)
        emo, split = f.parent.parent.name, f.parent.name
        if split not in SPLITS:
            raise CorpusError(f, f"unknown split folder '{split}' (want {sorted(SPLITS)})")
        yield Row(id=f"esd_{f.stem}", path=f, speaker=f"esd_{spk}", gender=GENDER.get(spk, "U"),
                  native=check_label(emo, LABELS, f, "ESD"), source=str(f), split=SPLITS[split],
                  transcript=texts.get(f.stem), extra={"language": language_of(spk)})


SYNTH = SynthSpec(
    voice="cmn",
    speakers=[Speaker(s, GENDER[s]) for s in ("0001", "0004", "0011", "0012", "0003", "0015")],
    emotions={"Angry": "anger", "Happy": "happiness", "Neutral": "neutral", "Sad": "sadness",
              "Surprise": "surprise"},
    sentences=[("1", "今天天气很好。"), ("2", "我们明天再说吧。"), ("3", "他已经回家了。")],
)
EN_SENTENCES = {"1": "The nine the eggs I keep.", "2": "We will talk about it tomorrow.",
                "3": "He has already gone home."}


def voice_for(u):
    return "cmn" if language_of(u.speaker.id) == "zh" else "en-us"


def text_for(u):
    return u.sentence[1] if language_of(u.speaker.id) == "zh" else EN_SENTENCES[u.sentence[0]]


def choose_split(k):
    return ("train", "train", "evaluation", "test")[k % 4]


def wav_path(u):
    return f"{u.speaker.id}/{u.native}/{u.extra['split']}/{u.speaker.id}_{u.index:06d}.wav"


def write_meta(root: Path, utts):
    by_spk = {}
    for u in utts:
        by_spk.setdefault(u.speaker.id, []).append(u)
    for spk, us in by_spk.items():
        lines = [f"{spk}_{u.index:06d}\t{text_for(u)}\t{u.native}" for u in sorted(us, key=lambda u: u.index)]
        (root / spk / f"{spk}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
