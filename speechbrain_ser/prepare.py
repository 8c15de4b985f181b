"""Data stages 0-2 shared by both recipes.

    python -m speechbrain_ser.prepare data      --data-root D [--synth-size tiny|mini --seed N] --corpora a,b
    python -m speechbrain_ser.prepare manifests --data-root D --out EXP/data/manifests --corpora a,b
                                                [--strict] [--max-reject 0.05]
                                                [--reader-option iemocap.self_evaluations=true ...]
    python -m speechbrain_ser.prepare labels    --config conf/labels.yaml --manifests EXP/data/manifests
                                                --out EXP/data/labels [key=value ...]
    python -m speechbrain_ser.prepare corpora   --config conf/labels.yaml [key=value ...]
    python -m speechbrain_ser.prepare lhotse    --labels EXP/data/labels --out DIR [--data-root D]

Stage 0 makes the embedded synthetic data when ``--synth-size`` is given, else
checks that every corpus folder exists under the data root. Stage 1 writes one
validated manifest per corpus (``<corpus>.json``) and the files it could not use
with their reasons (``rejected_<corpus>.tsv``, a header only when there are
none); ``--strict`` makes any reject an error, ``--max-reject`` is the share of
a corpus's files that may be rejected before the corpus is an error. Stage 2 writes
``<corpus>_<split>.json`` plus merged ``train.json``/``dev.json``/``test.json``
and ``summary.json``. Each stage is idempotent (see ``stage.py``).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import yaml

from . import corpora
from .corpora.base import CorpusError
from .labels.harmonise import LabelConfigError
from .labels.targets import msp_targets, native_targets, unified_targets
from .manifest import build_manifest
from .stage import (Stage, content_hash, fingerprint, tree_fingerprint, write_entries_atomic, write_json_atomic,
                    write_text_atomic)
from .synth.voices import DEFAULT_VOICES, VOICE_CHOICES

log = logging.getLogger("speechbrain_ser.prepare")


def stage_data(data_root: Path, names: list, synth_size: str | None, seed: int, voices: str = DEFAULT_VOICES):
    if synth_size:
        from .synth.generate import generate

        counts = generate(data_root, synth_size, seed, names, voices)
        log.info("stage 0: embedded %s data in %s: %d utterances", synth_size, data_root,
                 sum(counts.values()))
        return
    missing = [f"{n} ({data_root / corpora.get(n).DIRNAME})" for n in names
               if not (data_root / corpora.get(n).DIRNAME).is_dir()]
    if missing:
        raise CorpusError(data_root, "corpus folder(s) missing: " + ", ".join(missing))
    log.info("stage 0: all %d corpus folders present under %s", len(names), data_root)


def stage_manifests(data_root: Path, out: Path, names: list, strict: bool = False,
                    max_reject: float = 0.05, reader_options: dict | None = None):
    from .synth.generate import record_for

    reader_options = reader_options or {}
    unknown = sorted(set(reader_options) - set(names))
    if unknown:
        raise CorpusError(out, f"reader options for corpora not in this stage: {unknown}")
    # only these corpora's generator record: another recipe adding corpora to a shared
    # embedded data root does not make this stage stale
    # the corpora's label/metadata files by content and their audio by path, size and mtime:
    # an edited label file or a replaced recording reruns the stage
    inputs = {n: tree_fingerprint(data_root / corpora.get(n).DIRNAME) if (data_root / corpora.get(n).DIRNAME).is_dir()
              else None for n in names}
    options = dict(data_root=str(data_root.resolve()), corpora=names, synth=record_for(data_root, names),
                   inputs=inputs, strict=strict, max_reject=max_reject, reader_options=reader_options)
    with Stage(out, options, "stage 1 manifests") as st:
        if st.done:
            return
        built = {}
        for n in names:  # validate everything before writing anything
            mod = corpora.get(n)
            built[n] = build_manifest(mod, data_root / mod.DIRNAME, data_root, strict=strict,
                                      max_reject=max_reject, options=reader_options.get(n))
            m, rejects = built[n]
            lost = sum(r.counts for r in rejects)
            log.info("stage 1: %-12s %5d utterances%s", n, len(m),
                     f", {len(rejects)} file(s) rejected ({lost} counted; see rejected_{n}.tsv)" if rejects else "")
        for n, (m, rejects) in built.items():
            write_entries_atomic(st.dir / f"{n}.json", m)
            write_text_atomic(st.dir / f"rejected_{n}.tsv", "path\treason\tcounted\n" + "".join(
                f"{_rel(r.path, data_root)}\t{r.reason}\t{'yes' if r.counts else 'no'}\n" for r in rejects))
        write_json_atomic(st.dir / "counts.json", {n: len(m) for n, (m, _) in built.items()})


def _rel(path, data_root: Path) -> str:
    try:
        return "{data_root}/" + Path(path).resolve().relative_to(data_root.resolve()).as_posix()
    except ValueError:
        return str(path)


def parse_reader_options(items: list) -> dict:
    """``corpus.key=value`` (YAML value) -> {corpus: {key: value}}."""
    out: dict = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        corpus, dot, key = k.partition(".")
        if not sep or not dot or not corpus or not key:
            raise SystemExit(f"--reader-option '{it}' must be corpus.key=value (e.g. iemocap.self_evaluations=true)")
        out.setdefault(corpus, {})[key] = yaml.safe_load(v)
    return out


def stage_labels(config: dict, manifests: Path, out: Path):
    from .labels.harmonise import DEFAULT_MAPPING, DEFAULT_SPACES

    names = config["corpora"]
    # the mapping and label spaces by content: editing them (the package default mapping
    # included, `mapping: null`) reruns the stage
    options = dict(config=config, upstream=fingerprint(manifests),
                   label_files=content_hash(config.get("mapping") or DEFAULT_MAPPING, DEFAULT_SPACES))
    with Stage(out, options, "stage 2 labels") as st:
        if st.done:
            return
        loaded = {n: json.loads((manifests / f"{n}.json").read_text()) for n in names}
        if config["policy"] == "unified":
            labelled, summary = unified_targets(loaded, config)
        elif config["policy"] == "native":
            labelled, summary = native_targets(loaded, config)
        elif config["policy"] == "msp":
            labelled, summary = {}, {}
            for n in names:
                labelled[n], summary[n] = msp_targets(loaded[n], config, n)
        else:
            raise LabelConfigError(f"unknown label policy '{config['policy']}' (unified, native or msp)")
        merged: dict = {}
        for n, entries in labelled.items():
            by_split: dict = {}
            for uid, e in entries.items():
                by_split.setdefault(e["split"], {})[uid] = e
            for split, part in sorted(by_split.items()):
                if split != "zeroshot":  # a held-out corpus's one file is zeroshot_<corpus>.json below
                    write_entries_atomic(st.dir / f"{n}_{split}.json", part)
                name = f"zeroshot_{n}" if split == "zeroshot" else split
                merged.setdefault(name, {}).update(part)
        for name, part in merged.items():
            write_entries_atomic(st.dir / f"{name}.json", part)
        write_json_atomic(st.dir / "summary.json", summary)
        log.info("stage 2: wrote %s", ", ".join(f"{k}.json ({len(v)})" for k, v in sorted(merged.items())))
        for line in unscored_warnings(summary):
            log.warning("stage 2: %s", line)


def unscored_warnings(summary: dict) -> list:
    """One line per corpus whose native labels end up with a soft target but no hard label: they
    are trained on but left out of every hard-label metric (and the corpus's class set shrinks),
    with the one override that scores them."""
    out = []
    for corpus, v in sorted((summary.get("corpora") or {}).items()):
        labels = v.get("no_hard_label") or {}
        if labels:
            n = sum(labels.values())
            which = ", ".join(f"'{k}' ({c})" for k, c in labels.items())
            first = next(iter(labels))
            out.append(f"{corpus}: {n} utterances of label(s) {which} have a soft mapping row and no hard "
                       f"label: they are NOT scored. To score them as a class, set score_as, e.g. "
                       f"--label-overrides \"score_as.{corpus}.{first}=<class>\" (conf/labels.yaml: score_as)")
    return out


def _bare_keys(value, where: str):
    """YAML reads ``{Calm:neutral}`` (no space after the colon) as the key 'Calm:neutral' with no value:
    a mapping value of None in an override is that mistake, never an intention."""
    if isinstance(value, dict):
        for k, v in value.items():
            if v is None:
                raise LabelConfigError(f"--label-overrides {where}: '{k}' has no value"
                                       + (f" (write '{k.split(':')[0]}: {k.split(':', 1)[1]}' with a space "
                                          "after the colon)" if ":" in str(k) else ""))
            _bare_keys(v, where)
    elif isinstance(value, list):
        for v in value:
            _bare_keys(v, where)


def load_label_config(path: Path) -> dict:
    """A stage-2 label config; ``extends: other.yaml`` (relative to the file) starts from that
    config, whose keys this file's own override (mappings merged key by key)."""
    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise LabelConfigError(f"{path}: {e}") from None
    base = cfg.pop("extends", None)
    if base is None:
        return cfg
    out = load_label_config(path.parent / base)
    _merge(out, cfg)
    return out


def _merge(old: dict, new: dict):
    for k, v in new.items():
        if isinstance(old.get(k), dict) and isinstance(v, dict) and v:
            _merge(old[k], v)
        else:
            old[k] = v


def _kind(v) -> str:
    return "mapping" if isinstance(v, dict) else "list" if isinstance(v, list) else "value"


def split_overrides(text: str) -> list:
    """``key=value`` words of an override string: split on whitespace outside quotes and outside
    YAML brackets, so ``score_as={ravdess: {calm: neutral}}`` and ``mapping='/my dir/m.yaml'``
    stay whole (the quotes are YAML's to read)."""
    words, cur, depth, quote = [], "", 0, None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch.isspace() and depth <= 0:
            if cur:
                words.append(cur)
            cur = ""
            continue
        cur += ch
    if cur:
        words.append(cur)
    return words


def apply_overrides(cfg: dict, overrides) -> dict:
    """``cfg`` with ``key=value`` overrides (YAML values; a string is split by ``split_overrides``,
    so quoted and bracketed values keep their spaces). A dotted key reaches into nested mappings
    (``score_as.turev_db.Calm=neutral``); a mapping value is merged into the mapping it
    overrides (``score_as={turev_db: {Calm: neutral}}`` keeps the other corpora's entries; an
    empty mapping ``{}`` replaces it). A value of another shape than the one it replaces, or a
    mapping key without a value, is an error naming the override."""
    items = split_overrides(overrides) if isinstance(overrides, str) else list(overrides or [])
    for it in items:
        key, sep, text = it.partition("=")
        if not sep or not key:
            raise LabelConfigError(f"--label-overrides '{it}' must be key=value")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise LabelConfigError(f"--label-overrides {key}: '{text}' is not valid YAML "
                                   f"({str(e).splitlines()[0]})") from None
        _bare_keys(value, key)
        *path, last = key.split(".")
        target = cfg
        for part in path:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise LabelConfigError(f"--label-overrides {key}: '{part}' is not a mapping")
        old = target.get(last)
        if old is not None and value is not None and _kind(old) != _kind(value):
            raise LabelConfigError(f"--label-overrides {key}: expected a {_kind(old)} (like {old!r}), "
                                   f"got a {_kind(value)} ({value!r})")
        if isinstance(old, dict) and isinstance(value, dict) and value:
            _merge(old, value)
        else:
            target[last] = value
    return cfg


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.prepare", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data")
    d.add_argument("--data-root", required=True, type=Path)
    d.add_argument("--synth-size", default=None)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--synth-voices", default=DEFAULT_VOICES, choices=list(VOICE_CHOICES),
                   help="embedded data audio: " + "; ".join(f"{k}: {v}" for k, v in VOICE_CHOICES.items())
                        + f" (default {DEFAULT_VOICES})")
    d.add_argument("--corpora", required=True)
    m = sub.add_parser("manifests")
    m.add_argument("--data-root", required=True, type=Path)
    m.add_argument("--out", required=True, type=Path)
    m.add_argument("--corpora", required=True)
    m.add_argument("--strict", action="store_true", help="any rejected file is an error")
    m.add_argument("--max-reject", type=float, default=0.05,
                   help="share of a corpus's files that may be rejected before it is an error (default 0.05)")
    m.add_argument("--reader-option", action="append", default=[], metavar="CORPUS.KEY=VALUE",
                   help="a corpus reader's option, e.g. iemocap.self_evaluations=true (repeatable)")
    lab = sub.add_parser("labels")
    lab.add_argument("--config", required=True, type=Path)
    lab.add_argument("--manifests", required=True, type=Path)
    lab.add_argument("--out", required=True, type=Path)
    lab.add_argument("overrides", nargs="*", help="key=value (YAML value) overriding the config; "
                     "one argument may hold several, separated by spaces outside quotes and brackets")
    c = sub.add_parser("corpora", help="print the config's corpora (after overrides), comma-separated")
    c.add_argument("--config", required=True, type=Path)
    c.add_argument("overrides", nargs="*")
    lh = sub.add_parser("lhotse", help="write lhotse manifests of a stage-2 labels folder (lhotse_export.py)")
    lh.add_argument("--labels", required=True, type=Path)
    lh.add_argument("--out", required=True, type=Path)
    lh.add_argument("--data-root", type=Path, default=None, help="default: the one stage 1 read")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        if a.cmd == "corpora":
            cfg = apply_overrides(load_label_config(a.config),
                                  a.overrides[0] if len(a.overrides) == 1 else a.overrides)
            unknown = [n for n in cfg["corpora"] if n not in corpora.NAMES]
            if unknown:
                raise CorpusError(a.config, f"no reader for {unknown} (readers: {', '.join(corpora.NAMES)})")
            print(",".join(cfg["corpora"]))
        elif a.cmd == "data":
            stage_data(a.data_root, a.corpora.split(","), a.synth_size, a.seed, a.synth_voices)
        elif a.cmd == "lhotse":
            from .lhotse_export import export

            files = export(a.labels, a.out, a.data_root)
            log.info("lhotse: %d manifests in %s", len(files), a.out)
        elif a.cmd == "manifests":
            stage_manifests(a.data_root, a.out, a.corpora.split(","), strict=a.strict,
                            max_reject=a.max_reject, reader_options=parse_reader_options(a.reader_option))
        else:
            cfg = apply_overrides(load_label_config(a.config),
                                  a.overrides[0] if len(a.overrides) == 1 else a.overrides)
            stage_labels(cfg, a.manifests, a.out)
    except (CorpusError, LabelConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
