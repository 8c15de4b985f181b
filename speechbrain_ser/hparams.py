"""Load a recipe hparams file: HyperPyYAML plus one convention, ``extends:``.

A system file (``whisper_tiny.yaml``) may start with ``extends: base.yaml``; its
other keys then override the base file's keys, and command-line overrides come
last. Bases may extend further bases; ``@speechbrain_ser/conf/x.yaml`` names a
file inside the installed package (the blocks both recipes share). A tagged node (``!new:``, ``!name:`` ...) replaces the base node whole;
plain mappings merge key by key. Every overriding key must exist in the base,
so a typo is an error naming the file and key, not a silently ignored setting.
"""
from __future__ import annotations

from collections.abc import Mapping
from io import StringIO
from pathlib import Path

import ruamel.yaml
from hyperpyyaml import load_hyperpyyaml, resolve_references


def _yaml():
    return ruamel.yaml.YAML()


def _tagged(node) -> bool:
    tag = getattr(node, "tag", None)
    return bool(getattr(tag, "value", None))


def _merge(base, over, where: str, prefix: str = ""):
    for k, v in over.items():
        if k not in base:
            raise KeyError(f"{where}: override '{prefix}{k}' is not a key of the base hparams")
        if isinstance(v, Mapping) and isinstance(base[k], Mapping) and not _tagged(v) and not _tagged(base[k]):
            _merge(base[k], v, where, f"{prefix}{k}.")
        else:
            base[k] = v


def _base_path(path: Path, name: str) -> Path:
    if name.startswith("@"):
        return Path(__file__).resolve().parent.parent / name[1:]
    return path.parent / name


def merged_text(path: Path | str, overrides=None) -> str:
    """The hparams text after ``extends:`` and overrides, before object creation."""
    path = Path(path)
    doc = _yaml().load(path.read_text())
    if isinstance(doc, Mapping) and "extends" in doc:
        base = _yaml().load(merged_text(_base_path(path, str(doc.pop("extends")))))
        _merge(base, doc, str(path))
        doc = base
    if overrides:
        ov = _yaml().load(overrides) if isinstance(overrides, str) else _yaml().load(_dump(dict(overrides)))
        _merge(doc, ov or {}, "command-line overrides")
    return _dump(doc)


def _dump(node) -> str:
    buf = StringIO()
    _yaml().dump(node, buf)
    return buf.getvalue()


def load_hparams(path: Path | str, overrides=None) -> dict:
    return load_hyperpyyaml(merged_text(path, overrides))


def resolved_yaml(path: Path | str, overrides=None) -> str:
    """The merged yaml with references resolved (kept in the experiment folder)."""
    return resolve_references(merged_text(path, overrides)).getvalue()
