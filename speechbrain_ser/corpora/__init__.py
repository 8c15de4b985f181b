"""Corpus registry: every module in this folder (but ``base``) is a corpus reader.

Adding a corpus = one reader file here plus its rows in the label mapping YAML
(``docs/adding_a_corpus.md``); nothing else to register.
"""
from __future__ import annotations

import importlib
import pkgutil

from .base import CorpusError, Reject, Row  # noqa: F401

NAMES = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base")


def get(name: str):
    if name not in NAMES:
        raise KeyError(f"unknown corpus '{name}' (readers in speechbrain_ser/corpora/: {', '.join(NAMES)})")
    mod = importlib.import_module(f"{__name__}.{name}")
    if getattr(mod, "NAME", None) != name:
        raise KeyError(f"speechbrain_ser/corpora/{name}.py declares NAME = {getattr(mod, 'NAME', None)!r}: "
                       f"a corpus module's file name is its id, so NAME must be '{name}'")
    return mod
