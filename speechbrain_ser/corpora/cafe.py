"""CaFE, Canadian French Emotional speech (Gournay et al., 2018): 12 actors, 7 emotions.

Release read: the Zenodo release (48 kHz, 16-bit). Files read:
``<Emotion>/<Intensity>/<AA>-<E>-<I>-<S>.wav`` for the six emotions
(Colère, Dégoût, Joie, Peur, Surprise, Tristesse) with intensity folders
``Faible``/``Fort``, and ``Neutre/<AA>-N-<S>.wav`` for neutral. AA = actor
01-12 (odd male, even female), E = C/D/J/N/P/S/T, I = 1 faible / 2 fort,
S = sentence 1-6. No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Speaker, SynthSpec, check_label, match_files

NAME, LANGUAGE, DIRNAME = "cafe", "fr", "CaFE"
FOLDERS = {"C": "Colère", "D": "Dégoût", "J": "Joie", "N": "Neutre", "P": "Peur",
           "S": "Surprise", "T": "Tristesse"}
LABELS = set(FOLDERS)
PATTERN = r"(\d\d)-([CDJNPST])(?:-([12]))?-(\d)\.wav"
SENTENCES = [("1", "Un cheval fou dans mon jardin."), ("2", "Deux ânes aigris au pelage brun."),
             ("3", "Trois cygnes aveugles au bord du lac."), ("4", "Quatre vieilles truies éléphantesques."),
             ("5", "Cinq pumas fiers et passionnés."), ("6", "Six ours aimants domestiqués.")]


def prepare(root: Path):
    for f, m in match_files(root, "**/*.wav", PATTERN, "CaFE"):
        actor, emo, inten, sent = m.groups()
        yield Row(id=f"cafe_{f.stem}", path=f, speaker=f"cafe_{actor}",
                  gender="M" if int(actor) % 2 else "F", native=check_label(emo, LABELS, f, "CaFE"),
                  source=str(f), intensity={"1": "faible", "2": "fort", None: None}[inten],
                  transcript=dict(SENTENCES)[sent])


SYNTH = SynthSpec(
    voice="fr-fr",
    speakers=[Speaker(f"{i + 1:02d}", "MF"[i % 2]) for i in range(6)],
    emotions={"C": "anger", "D": "disgust", "J": "happiness", "N": "neutral", "P": "fear",
              "S": "surprise", "T": "sadness"},
    sentences=SENTENCES,
    intensities={"faible": 0.65, "fort": 0.95},
)


def choose_intensity(native, sentence_code, k):
    return None if native == "N" else ("faible", "fort")[k % 2]


def wav_path(u):
    if u.native == "N":
        return f"Neutre/{u.speaker.id}-N-{u.sentence[0]}.wav"
    level = {"faible": "1", "fort": "2"}[u.intensity]
    return f"{FOLDERS[u.native]}/{u.intensity.capitalize()}/{u.speaker.id}-{u.native}-{level}-{u.sentence[0]}.wav"


def write_meta(root: Path, utts):
    pass
