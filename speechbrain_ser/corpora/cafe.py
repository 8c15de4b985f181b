"""CaFE, Canadian French Emotional speech (Gournay et al., 2018): 12 actors, 7 emotions.

Release read: the Zenodo release (record 1478765; 48 kHz and 192 kHz versions).
Files ``<Emotion>/<Intensity>/<AA>-<E>-<I>-<S>.wav`` for the six emotions (Colère,
Dégoût, Joie, Peur, Surprise, Tristesse) with intensity folders ``Faible``/``Fort``,
and ``Neutre/<AA>-N-<I>-<S>.wav`` for neutral, e.g. ``Neutre/08-N-1-1.wav``: the
release writes an intensity digit (always 1) for neutral too, but neutral has no
intensity, so neutral utterances get none. AA = actor 01-12 (odd male, even
female), E = C/D/J/N/P/S/T, I = 1 faible / 2 fort, S = sentence 1-6. No official
split.

Accepted at any depth; the three-part neutral name ``<AA>-N-<S>.wav`` is read
too. The folder names (whose accents some unzip tools mangle) are not used.
Rejected: unknown codes, other names.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, Skip, check_label, each_file

NAME, LANGUAGE, DIRNAME = "cafe", "fr", "CaFE"
LABELS = {"C", "D", "J", "N", "P", "S", "T"}
SENTENCES = {"1": "Un cheval fou dans mon jardin.", "2": "Deux ânes aigris au pelage brun.",
             "3": "Trois cygnes aveugles au bord du lac.", "4": "Quatre vieilles truies éléphantesques.",
             "5": "Cinq pumas fiers et passionnés.", "6": "Six ours aimants domestiqués."}
LAYOUTS = [r"(?P<actor>\d\d)-(?P<emo>[A-Z])-(?P<inten>[12])-(?P<sent>\d)",
           r"(?P<actor>\d\d)-(?P<emo>N)-(?P<sent>\d)"]


def _row(f: Path, m) -> Row:
    emo = check_label(m["emo"], LABELS, "CaFE")
    if m["sent"] not in SENTENCES:
        raise Skip(f"unknown CaFE sentence {m['sent']} (1-6)")
    inten = m.groupdict().get("inten")
    if emo != "N" and inten is None:
        raise Skip("an emotional CaFE file without its intensity digit")
    return Row(id=f"cafe_{f.stem}", path=f, speaker=f"cafe_{m['actor']}",
               gender="M" if int(m["actor"]) % 2 else "F", native=emo, source=str(f),
               intensity=None if emo == "N" else {"1": "faible", "2": "fort"}[inten],
               transcript=SENTENCES[m["sent"]])


def prepare(root: Path):
    return each_file(root, LAYOUTS, "CaFE", _row)
