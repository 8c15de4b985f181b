"""Prepared corpora as lhotse manifests: ``python -m speechbrain_ser.prepare lhotse --labels
<exp>/data/labels --out DIR [--data-root D]``.

Per corpus of the stage-2 labels folder, ``<corpus>_recordings.jsonl.gz``,
``<corpus>_supervisions.jsonl.gz`` and ``<corpus>_cuts.jsonl.gz`` (lhotse's ``RecordingSet``,
``SupervisionSet`` and ``CutSet``). One recording and one supervision per utterance, both with the
utterance id of the manifest; the supervision holds speaker, gender (F/M; None when unknown),
language, the transcript as text, and in ``custom``: ``emotion`` (the unified hard label, or the
native one when the utterance has none), ``native``, ``corpus``, ``split``, ``hard``, ``target``
({class: probability}: the soft target training used) and ``avd`` where the corpus has them.
``corpora/lhotse.py`` reads such a folder back as a corpus (the same ids, labels and durations).
The audio is referenced where it is (``--data-root``, default the one stage 1 read), never copied.
"""
from __future__ import annotations

import json
from pathlib import Path

from .corpora.base import CorpusError
from .corpora.lhotse import EMOTION, lhotse_module
from .stage import atomic_dir, options_of, read_entries

MERGED = {"train", "dev", "test", "summary"}  # the labels folder's merged copies and its summary


def recorded_data_root(labels: Path) -> Path:
    """The data root stage 1 read (``<labels>/../manifests/.done.json``)."""
    manifests = Path(labels).parent / "manifests"
    try:
        return Path(options_of(manifests)["data_root"])
    except FileNotFoundError:
        raise CorpusError(labels, f"no finished stage 1 in {manifests} to take the data root from: "
                                  "pass --data-root") from None


def corpus_entries(labels: Path) -> dict:
    """{corpus: {id: entry}} of every per-corpus set file of a stage-2 labels folder."""
    out: dict = {}
    for f in sorted(Path(labels).glob("*.json")):
        if f.stem in MERGED or f.stem == "inventory":
            continue
        for uid, e in read_entries(f).items():
            if "corpus" not in e:
                break  # not a set file
            corpus = out.setdefault(e["corpus"], {})
            if uid in corpus:
                raise CorpusError(f, f"utterance {uid} is also in another set file")
            corpus[uid] = e
    if not out:
        raise CorpusError(labels, "no set files (<corpus>_<split>.json, zeroshot_<corpus>.json): not a labels folder")
    return out


def supervision_custom(e: dict, space: list) -> dict:
    custom = {EMOTION: e.get("hard") or e["native"], "native": e["native"], "corpus": e["corpus"],
              "split": e.get("split"), "hard": e.get("hard")}
    if e.get("target") is not None:
        custom["target"] = dict(zip(space, e["target"]))
    if e.get("avd") is not None:
        custom["avd"] = list(e["avd"])
    return custom


def export(labels: Path, out: Path, data_root: Path | None = None) -> list:
    """Write the lhotse manifests of every corpus in ``labels`` to ``out``; returns the files."""
    lhotse = lhotse_module()
    labels, out = Path(labels), Path(out)
    data_root = Path(data_root) if data_root else recorded_data_root(labels)
    space = json.loads((labels / "summary.json").read_text())["space"]
    written = []
    with atomic_dir(out) as tmp:
        for corpus, entries in corpus_entries(labels).items():
            recordings, supervisions = [], []
            for uid, e in entries.items():
                path = Path(e["wav"].replace("{data_root}", str(data_root)))
                if not path.exists():
                    raise CorpusError(path, f"audio of {uid} not found (data root {data_root}: pass --data-root)")
                rec = lhotse.Recording.from_file(path, recording_id=uid)
                recordings.append(rec)
                supervisions.append(lhotse.SupervisionSegment(
                    id=uid, recording_id=uid, start=0.0, duration=rec.duration,
                    channel=rec.channel_ids[0] if len(rec.channel_ids) == 1 else rec.channel_ids,
                    text=e.get("transcript"), language=e.get("language"), speaker=e.get("speaker"),
                    gender=e.get("gender") if e.get("gender") in ("F", "M") else None,
                    custom=supervision_custom(e, space)))
            recs = lhotse.RecordingSet.from_recordings(recordings)
            sups = lhotse.SupervisionSet.from_segments(supervisions)
            for kind, manifest in (("recordings", recs), ("supervisions", sups),
                                   ("cuts", lhotse.CutSet.from_manifests(recordings=recs, supervisions=sups))):
                name = f"{corpus}_{kind}.jsonl.gz"
                manifest.to_file(tmp / name)
                written.append(out / name)
    return written
