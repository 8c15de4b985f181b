"""RAVDESS speech (Livingstone & Russo, 2018): 24 actors, 8 emotions, 2 intensities.

Release read: ``Audio_Speech_Actors_01-24.zip`` (Zenodo record 1188976). File names
``MM-VV-EE-II-SS-RR-AA.wav``: modality (03 audio-only), vocal channel (01 speech,
02 song), emotion (01 neutral .. 08 surprised), intensity (01 normal, 02 strong;
neutral has no strong), statement (01 "Kids are talking by the door", 02 "Dogs are
sitting by the door"), repetition (01, 02), actor 01-24 (odd male, even female).
No official split.

Accepted at any depth below the corpus folder: ``Actor_18/03-01-05-01-02-01-18.wav``
as the zip unpacks; the same under its archive folder
(``Audio_Speech_Actors_01-24/Actor_18/...``); the Kaggle re-pack that ships both
trees (the second copy of a file is listed as a duplicate, not read twice); flat
folders of these names.
Skipped (listed in ``rejected_ravdess.tsv`` but not counted as rejects: they belong to
other parts of the release): song files (vocal channel 02, from
``Audio_Song_Actors_01-24``) and other modalities. Rejected: unknown codes, a file whose
actor number differs from its ``Actor_NN`` folder, names outside the convention.
Any audio format soundfile reads (the release's WAV, a FLAC copy).
"""
from __future__ import annotations

from pathlib import Path

from .base import OtherPart, Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "ravdess", "en", "RAVDESS"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
            "06": "fearful", "07": "disgust", "08": "surprised"}
LABELS = set(EMOTIONS.values())
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
INTENSITY = {"01": "normal", "02": "strong"}
LAYOUTS = [r"(?:Actor_(?P<folder>\d\d)/)?(?P<mod>\d\d)-(?P<chan>\d\d)-(?P<emo>\d\d)-(?P<inten>\d\d)"
           r"-(?P<stmt>\d\d)-(?P<rep>\d\d)-(?P<actor>\d\d)"]


def _row(f: Path, m) -> Row:
    g = m.groupdict()
    if g["mod"] != "03":
        raise OtherPart(f"modality {g['mod']} is not audio-only (03)")
    if g["chan"] == "02":
        raise OtherPart("vocal channel 02: the song part of the release, not speech (01)")
    if g["chan"] != "01":
        raise Skip(f"unknown RAVDESS vocal channel {g['chan']}")
    if g["folder"] and g["folder"] != g["actor"]:
        raise Skip(f"actor {g['actor']} in the folder of actor {g['folder']}")
    if g["inten"] not in INTENSITY or g["stmt"] not in STATEMENTS:
        raise Skip(f"unknown RAVDESS intensity/statement code {g['inten']}/{g['stmt']}")
    native = check_label(EMOTIONS.get(g["emo"], f"code {g['emo']}"), LABELS, "RAVDESS")
    return Row(id=f"ravdess_{f.stem}", path=f, speaker=f"ravdess_{g['actor']}",
               gender="M" if int(g["actor"]) % 2 else "F", native=native, source=str(f),
               intensity=INTENSITY[g["inten"]], transcript=STATEMENTS[g["stmt"]])


def prepare(root: Path):
    return each_file(root, LAYOUTS, "RAVDESS", _row)
