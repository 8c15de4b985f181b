"""Synthetic cafe in its release layout, read back by ``corpora/cafe.py``."""
from __future__ import annotations

from . import Speaker, SynthSpec
from ...corpora import cafe as reader

FOLDERS = {"C": "Colère", "D": "Dégoût", "J": "Joie", "N": "Neutre", "P": "Peur",
           "S": "Surprise", "T": "Tristesse"}

SYNTH = SynthSpec(
    voice="fr-fr",
    speakers=[Speaker(f"{i + 1:02d}", "MF"[i % 2]) for i in range(6)],
    emotions={"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear",
              "S": "surprise", "T": "sadness"},
    sentences=list(reader.SENTENCES.items()),
    intensities={"faible": 0.65, "fort": 0.95},
)


def choose_intensity(native, sentence_code, k):
    return None if native == "N" else ("faible", "fort")[k % 2]


def wav_path(u):
    if u.native == "N":
        return f"Neutre/{u.speaker.id}-N-{u.sentence[0]}.wav"
    level = {"faible": "1", "fort": "2"}[u.intensity]
    return f"{FOLDERS[u.native]}/{u.intensity.capitalize()}/{u.speaker.id}-{u.native}-{level}-{u.sentence[0]}.wav"
