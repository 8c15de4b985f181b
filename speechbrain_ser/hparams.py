"""Load a recipe hparams file: HyperPyYAML plus one convention, ``extends:``.

A system file (``whisper_tiny.yaml``) may start with ``extends: base.yaml``; its
other keys then override the base file's keys, and command-line overrides come
last. ``extends: [base.yaml, "@speechbrain_ser/conf/gpu.yaml"]`` lays the keys of the
later files over the first in order (a block of settings shared by systems of both recipes). Bases may extend further bases; ``@speechbrain_ser/conf/x.yaml`` names a
file inside the installed package (the blocks both recipes share). A tagged node (``!new:``, ``!name:`` ...) replaces the base node whole;
plain mappings merge key by key. Every overriding key must exist in the base,
so a typo is an error naming the file and key, not a silently ignored setting.
"""
from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Mapping
from io import StringIO
from pathlib import Path

import ruamel.yaml
import yaml
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
        names = doc.pop("extends")
        names = [str(n) for n in names] if isinstance(names, list) else [str(names)]
        base = _yaml().load(merged_text(_base_path(path, names[0])))
        for name in names[1:]:  # blocks laid over the base in order (e.g. the GPU run settings)
            _merge(base, _yaml().load(merged_text(_base_path(path, name))), str(_base_path(path, name)))
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


def variant_changes(hparams: Path | str, train_args: list, labels_config: Path | str | None = None,
                    label_overrides: str = "") -> list:
    """What an ablation variant changes: ``train_args`` (``--key value`` pairs, as the recipes pass
    training overrides) against the hparams file, ``label_overrides`` (``key=value``) against the
    labels config; ["key: old -> new", ...], empty when the variant equals the baseline."""
    base = _yaml().load(merged_text(hparams))
    changes = []
    if len(train_args) % 2:
        raise ValueError(f"training overrides must be --key value pairs, got {train_args}")
    for flag, text in zip(train_args[::2], train_args[1::2]):
        key = flag.lstrip("-")
        if key not in base:
            raise KeyError(f"{hparams}: '{key}' is not a key of these hparams")
        new, old = yaml.safe_load(text), base[key]
        if _tagged(old) or new != old:
            changes.append(f"{key}: {old} -> {new}")
    if label_overrides:
        from .prepare import apply_overrides, load_label_config

        cfg = load_label_config(Path(labels_config))
        new_cfg = apply_overrides(copy.deepcopy(cfg), label_overrides)
        changes += [f"{k}: {cfg.get(k)} -> {new_cfg.get(k)}" for k in sorted(new_cfg) if new_cfg.get(k) != cfg.get(k)]
    return changes


def main(argv=None):
    """``python -m speechbrain_ser.hparams changes HPARAMS [--labels-config C --label-overrides "k=v"]
    [-- --key value ...]``: print what a variant changes; exit 2 when it changes nothing."""
    argv = sys.argv[1:] if argv is None else list(argv)
    train = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.hparams")
    ap.add_argument("cmd", choices=["changes"])
    ap.add_argument("hparams")
    ap.add_argument("--labels-config", default=None)
    ap.add_argument("--label-overrides", default="")
    ap.add_argument("--name", default="variant")
    a = ap.parse_args(argv)
    changes = variant_changes(a.hparams, train, a.labels_config, a.label_overrides)
    if not changes:
        print(f"{a.name}: changes nothing for {a.hparams}" + (f" and {a.labels_config}" if a.labels_config else "")
              + f" (training overrides {' '.join(train) or 'none'}, label overrides '{a.label_overrides}' are "
              "what the configuration already says): an ablation row of it would compare the system with itself",
              file=sys.stderr)
        return 2
    print(f"{a.name}: " + "; ".join(changes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
