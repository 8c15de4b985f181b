"""CREMA-D (Cao et al., 2014): 91 actors, 12 sentences, 6 emotions, 4 intensity levels.

Release read: the GitHub/Kaggle release (``AudioWAV/`` + ``VideoDemographics.csv``).
Files ``<ActorID>_<Sentence>_<Emotion>_<Level>.wav`` (e.g. ``1001_DFA_ANG_XX.wav``;
Level LO/MD/HI, XX = unspecified) and ``VideoDemographics.csv``
(``ActorID,Age,Sex,Race,Ethnicity``) for gender. No official split. Sentence codes
map to the 12 fixed sentences below.

Accepted at any depth (``AudioWAV/`` or flat; the demographics file anywhere
below the corpus folder). Rejected: unknown emotion or sentence codes, actors
missing from the demographics, other names. A missing demographics file is an
error (it is the only source of gender).
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Skip, check_label, each_file, read_csv

NAME, LANGUAGE, DIRNAME = "crema_d", "en", "CREMA-D"
LABELS = {"ANG", "DIS", "FEA", "HAP", "NEU", "SAD"}
SENTENCES = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting", "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full", "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock", "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket", "ITS": "I think I've seen this before",
    "TSI": "The surface is slick", "WSI": "We'll stop in a couple of minutes",
}
LAYOUTS = [r"(?P<actor>\d{4})_(?P<sent>[A-Z]{3})_(?P<emo>[A-Z]{3})_(?P<level>LO|MD|HI|XX)"]


def prepare(root: Path):
    found = sorted(root.rglob("VideoDemographics.csv"))
    if not found:
        raise CorpusError(root / "VideoDemographics.csv", "file not found (CREMA-D speaker genders)")
    demo = found[0]
    gender = {r["ActorID"]: r["Sex"] for _, r in read_csv(demo, ["ActorID", "Sex"])}

    def row(f: Path, m) -> Row:
        if m["actor"] not in gender:
            raise Skip(f"actor {m['actor']} missing from {demo.name}")
        if m["sent"] not in SENTENCES:
            raise Skip(f"unknown CREMA-D sentence code {m['sent']}")
        return Row(id=f"crema_d_{f.stem}", path=f, speaker=f"crema_d_{m['actor']}",
                   gender={"Female": "F", "Male": "M"}.get(gender[m["actor"]], "U"),
                   native=check_label(m["emo"], LABELS, "CREMA-D"), source=str(f),
                   intensity=m["level"], transcript=SENTENCES[m["sent"]])

    return each_file(root, LAYOUTS, "CREMA-D", row)
