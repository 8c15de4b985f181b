"""The MSP-Podcast challenge's submission files (one row per utterance of a set)."""
from __future__ import annotations

from pathlib import Path

from ..stage import write_csv_atomic
from . import CLASSES
from .postprocess import apply_offsets

ATTRS = ["EmoAct", "EmoVal", "EmoDom"]  # the challenge's names for arousal, valence, dominance


def write_submissions(out: Path, name: str, ids, probs, avd, offsets, head_output: str):
    if probs is not None:
        write_csv_atomic(out / f"submission_categorical_{name}.csv", ["FileName", "EmoClass"],
                         [[f"{u}.wav", CLASSES[p]] for u, p in zip(ids, apply_offsets(probs, offsets, head_output))])
    if avd is not None:
        write_csv_atomic(out / f"submission_attributes_{name}.csv", ["FileName"] + ATTRS,
                         [[f"{u}.wav"] + [f"{x:.4f}" for x in a] for u, a in zip(ids, avd)])
