"""MESD, Mexican Emotional Speech Database (Duville et al., 2021), Mexican Spanish.

Release read: the Mendeley Data release (DOI 10.17632/cy34mh68j9), one folder of
wav files, ``Mexican Emotional Speech Database (MESD)/`` when unpacked with its
folder. File names ``<Emotion>_<Voice>_<Corpus>_<word>.wav``: Emotion Anger,
Disgust, Fear, Happiness, Neutral, Sadness; Voice F (female adult), M (male
adult), C (child); Corpus A or B (the two word lists); the word.

Speakers: the release has 3 female, 2 male and 6 child voices but the file
names identify only the voice *type*, so the speaker id is the voice type
(``mesd_F``, ``mesd_M``, ``mesd_C``). A speaker split would put whole voice types
in one split (children in train, men in dev, women in test), so MESD is split by
word instead (``SPLIT_UNIT``, the transcript): every voice type speaks the same
word lists, so every split holds every voice type, and a word's recordings (all
voices, all emotions) stay in one split. The splits are not speaker-disjoint.
Children's gender is not given (U).
Accepted at any depth; rejected: unknown emotions or voice letters, other names.
No official split.
"""
from __future__ import annotations

from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "mesd", "es", "MESD"
SPLIT_UNIT = "transcript"  # the word: see above
LABELS = {"Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness"}
LAYOUTS = [r"(?P<emo>[A-Za-z]+)_(?P<voice>[FMC])_(?P<corpus>[AB])_(?P<word>[^/]+)"]


def _row(f: Path, m) -> Row:
    return Row(id=f"mesd_{f.stem}", path=f, speaker=f"mesd_{m['voice']}",
               gender={"F": "F", "M": "M", "C": "U"}[m["voice"]],
               native=check_label(m["emo"], LABELS, "MESD"), source=str(f), transcript=m["word"],
               extra={"word_list": m["corpus"]})


def prepare(root: Path):
    return each_file(root, LAYOUTS, "MESD", _row)
