"""CREMA-D (Cao et al., 2014): 91 actors, 12 sentences, 6 emotions, 4 intensity levels.

Release read: the GitHub/Kaggle release (``AudioWAV/`` + ``VideoDemographics.csv``).
Files read: ``AudioWAV/<ActorID>_<Sentence>_<Emotion>_<Level>.wav`` (e.g.
``1001_DFA_ANG_XX.wav``; Level LO/MD/HI, XX = unspecified) and
``VideoDemographics.csv`` (``ActorID,Age,Sex,Race,Ethnicity``) for gender.
No official split. Sentence codes map to the 12 fixed sentences below.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Row, Speaker, SynthSpec, check_label, match_files, read_csv, write_csv

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
PATTERN = r"(\d{4})_([A-Z]{3})_([A-Z]{3})_(LO|MD|HI|XX)\.wav"


def prepare(root: Path):
    demo = root / "VideoDemographics.csv"
    gender = {r["ActorID"]: r["Sex"] for _, r in read_csv(demo, ["ActorID", "Sex"])}
    for f, m in match_files(root / "AudioWAV", "*.wav", PATTERN, "CREMA-D"):
        actor, sent, emo, level = m.groups()
        if actor not in gender:
            raise CorpusError(demo, f"actor {actor} of {f.name} missing from demographics")
        yield Row(id=f"crema_d_{f.stem}", path=f, speaker=f"crema_d_{actor}",
                  gender={"Female": "F", "Male": "M"}.get(gender[actor], "U"),
                  native=check_label(emo, LABELS, f, "CREMA-D"), source=str(f),
                  intensity=level, transcript=SENTENCES.get(sent))


SYNTH = SynthSpec(
    voice="en-us",
    speakers=[Speaker(f"{1001 + i}", "MF"[i % 2]) for i in range(8)],
    emotions={"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness",
              "NEU": "neutral", "SAD": "sadness"},
    sentences=list(SENTENCES.items()),
    intensities={"LO": 0.55, "MD": 0.75, "HI": 0.95, "XX": 0.8},
)


def choose_intensity(native, sentence_code, k):
    """As in the release: only IEO carries LO/MD/HI; neutral and the rest are XX."""
    if native == "NEU" or sentence_code != "IEO":
        return "XX"
    return ("LO", "MD", "HI")[k % 3]


def wav_path(u):
    return f"AudioWAV/{u.speaker.id}_{u.sentence[0]}_{u.native}_{u.intensity}.wav"


def write_meta(root: Path, utts):
    spk = sorted({(u.speaker.id, u.speaker.gender) for u in utts})
    write_csv(root / "VideoDemographics.csv", ["ActorID", "Age", "Sex", "Race", "Ethnicity"],
              [[s, 30, {"F": "Female", "M": "Male"}[g], "Unknown", "Not Hispanic"] for s, g in spk])
