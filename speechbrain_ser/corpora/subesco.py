"""SUBESCO, SUST Bangla Emotional Speech Corpus (Sultana et al., 2021).

Release read: the Zenodo release (record 4526477), one folder of 7,000 wav files.
File names ``<G>_<SS>_<NAME>_S_<K>_<EMOTION>_<T>.wav``: gender F/M, speaker
number, speaker name, sentence number K (1-10), emotion ANGRY, DISGUST, FEAR,
HAPPY, NEUTRAL, SAD, SURPRISE, take T (1-5). No official split.

Accepted at any depth. Rejected, one file at a time: names outside the convention
(the release ships one mistyped name, ``F_02_MONIKA_S_2_SURPRISE_3].wav``, which
is listed in ``rejected_subesco.tsv`` instead of stopping the corpus) and unknown
emotions.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "subesco", "bn", "SUBESCO"
LABELS = {"ANGRY", "DISGUST", "FEAR", "HAPPY", "NEUTRAL", "SAD", "SURPRISE"}
LAYOUTS = [r"(?P<g>[FM])_(?P<num>\d\d)_(?P<name>[A-Z]+)_S_(?P<sent>\d+)_(?P<emo>[A-Z]+)_(?P<take>\d)"]


def _row(f: Path, m) -> Row:
    return Row(id=f"subesco_{f.stem}", path=f, speaker=f"subesco_{m['g']}_{m['num']}", gender=m["g"],
               native=check_label(m["emo"], LABELS, "SUBESCO"), source=str(f))


def prepare(root: Path):
    return each_file(root, LAYOUTS, "SUBESCO", _row)
