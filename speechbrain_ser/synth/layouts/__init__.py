"""How the embedded-data generator lays out a synthetic copy of each corpus.

One module per corpus the generator can make, named like its reader in
``speechbrain_ser/corpora/``. A layout module defines ``SYNTH`` (a ``SynthSpec``:
voice, speakers, native label -> emotion concept, sentences, intensities) and
``wav_path(utt)`` (the release's file names), and optionally ``write_meta(root, utts)``
(its label and metadata files), ``plan(size, rng)``, ``choose_intensity``, ``choose_split``,
``voice_for``, ``text_for``. It may import its reader's constants; readers never
import this package. A corpus without a layout is still readable from real data;
it is just not part of the embedded default data.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Speaker:
    id: str
    gender: str


@dataclass
class SynthSpec:
    voice: str                        # espeak-ng voice
    speakers: list                    # [Speaker]
    emotions: dict                    # native label -> emotion concept
    sentences: list                   # [(code, text)]
    intensities: Optional[dict] = None  # level -> expressed strength in (0, 1]


@dataclass
class Utt:
    """One planned synthetic utterance."""
    speaker: Speaker
    native: str
    sentence: tuple
    take: int = 1
    intensity: Optional[str] = None
    blend: dict = field(default_factory=dict)
    index: int = 0
    extra: dict = field(default_factory=dict)


# the order in which the generator makes them (and tests list them)
ORDER = ["iemocap", "msp_podcast", "crema_d", "ravdess", "tess", "savee", "esd", "casia",
         "emovo", "cafe", "shemo", "mesd", "emodb", "aesdd", "urdu", "subesco"]
_found = sorted(m.name for m in pkgutil.iter_modules(__path__))
NAMES = [n for n in ORDER if n in _found] + [n for n in _found if n not in ORDER]


def get(name: str):
    if name not in NAMES:
        raise KeyError(f"the generator has no synthetic layout for '{name}' (have: {', '.join(NAMES)}); "
                       "real copies are read with --data-root")
    return importlib.import_module(f"{__name__}.{name}")
