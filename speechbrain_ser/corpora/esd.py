"""ESD, Emotional Speech Dataset (Zhou et al., 2021): 10 Mandarin + 10 English speakers.

Release read: ``Emotional Speech Dataset (ESD)`` v1 (GitHub HLTSingapore). Files
``<SPK>/<Emotion>/<split>/<SPK>_<NNNNNN>.wav`` with speakers 0001-0010 Mandarin
and 0011-0020 English, emotions Angry/Happy/Neutral/Sad/Surprise and the split
folders ``train``/``evaluation``/``test``; ``<SPK>/<SPK>.txt`` (tab-separated
``id<TAB>text<TAB>emotion``, the emotion word in Chinese for Mandarin speakers)
for transcripts. Gender is not in the file names; it comes from the table below
(the release README lists it per speaker).

Utterance numbering (what the split folders of the release follow): each
speaker's 1,750 utterances are five blocks of 350, one per emotion in the order
Neutral, Angry, Happy, Sad, Surprise; within a block, positions 1-20 are
``evaluation``, 21-50 ``test`` and 51-350 ``train`` (20/30/300 per emotion, as the
README counts them). For example ``0016/Neutral/evaluation/0016_000019.wav`` and
``0016/Angry/train/0016_000699.wav``.

Accepted at any depth (with or without the ``Emotion Speech Dataset/`` wrapper).
Copies without the split folders (``0001/Neutral/0001_000001.wav``, the Kaggle
re-pack) get the official split derived from that numbering, and the log says
so; a copy mixing both layouts uses the numbering for every file. Rejected: a
number outside its emotion folder's block when the split must be derived,
unknown emotion folders, other names. Transcript files are optional; unreadable
lines in them are counted in the log, not fatal (they hold no labels).
"""
from __future__ import annotations

import logging
from pathlib import Path

from .base import Reject, Row, Skip, check_label, each_file

log = logging.getLogger(__name__)
NAME, LANGUAGE, DIRNAME = "esd", "zh", "ESD"
LABELS = {"Angry", "Happy", "Neutral", "Sad", "Surprise"}
BLOCKS = ["Neutral", "Angry", "Happy", "Sad", "Surprise"]  # 350 utterances each, in this order
GENDER = {"0001": "F", "0002": "F", "0003": "F", "0004": "M", "0005": "M", "0006": "M",
          "0007": "F", "0008": "M", "0009": "F", "0010": "M", "0011": "M", "0012": "M",
          "0013": "M", "0014": "M", "0015": "F", "0016": "F", "0017": "F", "0018": "F",
          "0019": "F", "0020": "M"}
SPLITS = {"train": "train", "evaluation": "dev", "test": "test"}
LAYOUTS = [r"(?P<spk>\d{4})/(?P<emo>[A-Za-z]+)/(?:(?P<split>train|evaluation|test)/)?(?P=spk)_(?P<num>\d{6})"]


def language_of(speaker: str) -> str:
    return "zh" if int(speaker) <= 10 else "en"


def split_of_number(num: int) -> str:
    """The official split of utterance ``num`` from its position in its emotion block."""
    pos = (num - 1) % 350 + 1
    return "dev" if pos <= 20 else "test" if pos <= 50 else "train"


def _transcripts(root: Path) -> dict:
    texts, bad = {}, 0
    for t in sorted(root.rglob("[0-9][0-9][0-9][0-9].txt")):
        raw = t.read_bytes()
        for enc in ("utf-8-sig", "utf-16", "gb18030"):
            try:
                lines = raw.decode(enc).splitlines()
                break
            except UnicodeDecodeError:
                continue
        else:
            log.warning("ESD: %s is in no known text encoding; no transcripts from it", t)
            continue
        for line in lines:
            parts = line.strip().split("\t")
            if len(parts) >= 2 and parts[0].startswith(t.stem + "_"):
                texts[parts[0]] = parts[1].strip()
            elif line.strip():
                bad += 1
    if bad:
        log.warning("ESD: %d transcript line(s) not of the form id<TAB>text<TAB>emotion were ignored", bad)
    return texts


def _row(f: Path, m) -> Row:
    spk, num = m["spk"], int(m["num"])
    if spk not in GENDER:
        raise Skip(f"unknown ESD speaker {spk} (0001-0020)")
    emo = check_label(m["emo"], LABELS, "ESD")
    return Row(id=f"esd_{f.stem}", path=f, speaker=f"esd_{spk}", gender=GENDER[spk], native=emo,
               source=str(f), split=SPLITS[m["split"]] if m["split"] else None,
               extra={"language": language_of(spk), "number": num})


def prepare(root: Path):
    texts = _transcripts(root)
    items = list(each_file(root, LAYOUTS, "ESD", _row))
    rows = [r for r in items if isinstance(r, Row)]
    derive = any(r.split is None for r in rows)
    if derive:
        mixed = any(r.split is not None for r in rows)
        log.info("ESD: %s; official split derived from the utterance numbering "
                 "(per emotion block of 350: 1-20 evaluation, 21-50 test, 51-350 train)",
                 "some files lack split folders" if mixed else "no train/evaluation/test folders")
    for r in items:
        if isinstance(r, Row):
            num = r.extra.pop("number")
            if derive:
                block = BLOCKS[(num - 1) // 350] if 1 <= num <= 1750 else None
                if block != r.native:
                    yield Reject(r.path, f"utterance number {num} is outside the {r.native} block "
                                         f"({BLOCKS.index(r.native) * 350 + 1}-{BLOCKS.index(r.native) * 350 + 350}); "
                                         "its split cannot be derived")
                    continue
                r.split = split_of_number(num)
            r.transcript = texts.get(r.path.stem)
        yield r
