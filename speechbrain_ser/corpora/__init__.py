"""Corpus registry: one module per corpus, each with the same contract (see base.py).

Adding a corpus = adding its module here and its rows to the label mapping YAML.
"""
from __future__ import annotations

import importlib

from .base import CorpusError, Row  # noqa: F401

NAMES = ["iemocap", "msp_podcast", "crema_d", "ravdess", "tess", "savee", "esd", "casia",
         "emovo", "cafe", "shemo", "mesd", "emodb", "aesdd", "urdu", "subesco"]


def get(name: str):
    if name not in NAMES:
        raise KeyError(f"unknown corpus '{name}' (registered: {', '.join(NAMES)})")
    return importlib.import_module(f"{__name__}.{name}")


def all_modules():
    return [get(n) for n in NAMES]
