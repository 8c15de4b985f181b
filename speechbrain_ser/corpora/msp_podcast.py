"""MSP-Podcast (Lotfian & Busso, 2019; challenge releases 1.11/1.12).

Files read (release layout, ``MSP-PODCAST-Publish-1.12/`` unpacked as the corpus folder):

* ``Audios/MSP-PODCAST_<podcast>_<segment>.wav``;
* the consensus labels, the first found of ``Labels/labels_consensus.csv``,
  ``Labels/labels_concensus.csv`` (older releases) and ``Labels/labels_consensus.json``
  (file name -> the same fields; the file other toolkits' preparation reads), with
  fields ``FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set``;
  EmoClass is one of A,S,H,U,F,D,C,N (8 classes), O (other), X (no agreement);
  Split_Set is Train, Development, Test1, Test2 or Test3;
* per-annotator detail, either ``Labels/labels_detailed.json``
  (file → worker → ``EmoClass_Major``, ``EmoClass_Second``, ``EmoAct``, ``EmoVal``,
  ``EmoDom``) or the newer ``Labels/labels_detailed.csv`` (one row per file and
  worker, columns ``FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom``);
  EmoClass values are words (Angry, Sad, ...); any word outside the 8 classes
  ("Other", "Other-...", "Concerned", ...) counts as O;
* ``Transcripts/<stem>.txt`` when present.

Test3, the challenge's blind test set, ships as audio without labels. The official
baseline (msplabresearch/MSP-Podcast_Challenge, ``eval_dim_ser_test3.py``) finds it
as the files of ``Audios/`` whose name contains ``test3`` (``MSP-PODCAST_test3_0001.wav``
... ``MSP-PODCAST_test3_3200.wav``); they are not rows of the consensus file. Some
copies list them there with ``Split_Set`` Test3 and empty ``EmoClass`` and
attributes. Either way they become unlabelled ``test3`` utterances (no label, no
attributes, speaker unknown), which stage 2 gives no targets, stage 4 predicts
and stage 5 writes the Test3 submission files for. A labelled row of any other
split with an empty label is still an error.

The module logs which consensus file and which detailed format it found. Audio
listed in the labels but missing on disk is rejected per file
(``rejected_msp_podcast.tsv``), as are unreadable files.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np

from .base import AUDIO_EXTENSIONS, CorpusError, Row, audio_file, read_csv

log = logging.getLogger(__name__)
AVD_SCALE = (1.0, 7.0)  # arousal/valence/dominance rated on 7-point scales (release documentation)
NAME, LANGUAGE, DIRNAME = "msp_podcast", "en", "MSP-Podcast"
CODES = ["A", "S", "H", "U", "F", "D", "C", "N"]
LABELS = set(CODES) | {"O", "X"}
WORDS = {"Angry": "A", "Sad": "S", "Happy": "H", "Surprise": "U", "Fear": "F",
         "Disgust": "D", "Contempt": "C", "Neutral": "N"}
SPLITS = {"Train": "train", "Development": "dev", "Test1": "test1", "Test2": "test2",
          "Test3": "test3"}
CONSENSUS = ["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]
DETAIL = ["EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"]


def word_code(word: str) -> str:
    return WORDS.get(word.strip(), "O")


def _float(v, where, col):
    """``where`` is (file,) or (file, line)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise CorpusError(where[0], f"{col} is not a number: {v!r}", *where[1:]) from None
    if not np.isfinite(x):
        raise CorpusError(where[0], f"{col} is not finite: {v!r}", *where[1:])
    return x


def _vote(worker, d, where):
    return {"worker": worker, "primary": word_code(d["EmoClass_Major"]),
            "secondary": sorted({word_code(w) for w in str(d["EmoClass_Second"]).split(",") if w.strip()}),
            "avd": [_float(d[c], where, c) for c in ("EmoAct", "EmoVal", "EmoDom")]}


def _header(path: Path) -> list:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader(f), [])


def _emo_detail(value: str, where) -> tuple:
    """(worker, vote fields) of one ``EmoDetail`` cell: ``WORKER0001; Neutral; Happy,Concerned;
    A:4.0; V:4.0; D:3.0;`` (the one-column form of ``labels_detailed.csv`` some releases ship)."""
    parts = [p.strip() for p in value.split(";")]
    while parts and not parts[-1]:
        parts.pop()
    attrs = {p.split(":", 1)[0].strip(): p.split(":", 1)[1].strip() for p in parts[3:] if ":" in p}
    if len(parts) != 6 or set(attrs) != {"A", "V", "D"}:
        raise CorpusError(where[0], f"EmoDetail {value!r} is not 'worker; major; second; A:x; V:y; D:z;'",
                          *where[1:])
    return parts[0], {"EmoClass_Major": parts[1], "EmoClass_Second": parts[2], "EmoAct": attrs["A"],
                      "EmoVal": attrs["V"], "EmoDom": attrs["D"]}


def read_detailed(labels: Path) -> tuple[dict, str]:
    """file → list of votes, and the name of the file read.

    ``labels_detailed.csv`` comes in two forms, both read: one row per worker with
    ``FileName, WorkerID, EmoClass_Major, EmoClass_Second, EmoAct, EmoVal, EmoDom``, or
    ``FileName, EmoDetail`` with the worker's labels in one cell (``_emo_detail``). A CSV
    with neither header falls back to ``labels_detailed.json`` when it is there, else it
    is an error naming the columns found."""
    js, cs = labels / "labels_detailed.json", labels / "labels_detailed.csv"
    votes: dict = {}
    if cs.exists():
        header = _header(cs)
        if {"FileName", "WorkerID", *DETAIL} <= set(header):
            for n, r in read_csv(cs, ["FileName", "WorkerID"] + DETAIL):
                votes.setdefault(r["FileName"], []).append(_vote(r["WorkerID"], r, (cs, n)))
            return votes, cs.name
        if {"FileName", "EmoDetail"} <= set(header):
            for n, r in read_csv(cs, ["FileName", "EmoDetail"]):
                worker, d = _emo_detail(r["EmoDetail"], (cs, n))
                votes.setdefault(r["FileName"], []).append(_vote(worker, d, (cs, n)))
            return votes, cs.name
        if not js.exists():
            raise CorpusError(cs, f"unknown header {header}: want FileName, WorkerID, {', '.join(DETAIL)} "
                                  "(one row per worker) or FileName, EmoDetail", 1)
        log.warning("MSP-Podcast: %s has an unknown header %s; reading %s instead", cs.name, header, js.name)
    if js.exists():
        try:
            doc = json.loads(js.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise CorpusError(js, f"invalid JSON: {e.msg}", e.lineno) from None
        for fname, workers in doc.items():
            if not isinstance(workers, dict):
                raise CorpusError(js, f"entry {fname}: expected worker → labels mapping")
            for w, d in workers.items():
                missing = [c for c in DETAIL if c not in d]
                if missing:
                    raise CorpusError(js, f"entry {fname}/{w}: missing {missing}")
                votes.setdefault(fname, []).append(_vote(w, d, (js,)))
        return votes, js.name
    return {}, ""


def read_consensus(labels: Path):
    """Yield (where, row dict) from the first consensus file found; where = (file, line)."""
    for name in ("labels_consensus.csv", "labels_concensus.csv"):
        if (labels / name).exists():
            log.info("MSP-Podcast: consensus labels from %s", name)
            yield from (((labels / name, n), r) for n, r in read_csv(labels / name, CONSENSUS))
            return
    js = labels / "labels_consensus.json"
    if not js.exists():
        raise CorpusError(labels, "none of labels_consensus.csv, labels_concensus.csv, "
                                  "labels_consensus.json found")
    log.info("MSP-Podcast: consensus labels from %s", js.name)
    try:
        doc = json.loads(js.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise CorpusError(js, f"invalid JSON: {e.msg}", e.lineno) from None
    if not isinstance(doc, dict):
        raise CorpusError(js, "expected an object: file name -> labels")
    for fname, d in doc.items():
        missing = [c for c in CONSENSUS[1:] if not isinstance(d, dict) or c not in d]
        if missing:
            raise CorpusError(js, f"entry {fname}: missing {missing}")
        yield (js,), {"FileName": fname, **{c: "" if d[c] is None else str(d[c]) for c in CONSENSUS[1:]}}


def _unlabelled(path: Path, where: str, split: str = "test3") -> Row:
    return Row(id=path.stem, path=path, speaker=None, gender="U", native=None,
               source=where, split=split, extra={"detail_source": ""})


def prepare(root: Path):
    labels, audios = root / "Labels", root / "Audios"
    detailed, dname = read_detailed(labels)
    log.info("MSP-Podcast: annotator detail from %s", dname or "(none: no P/S targets)")
    listed = set()
    transcripts = root / "Transcripts"
    has_transcripts = transcripts.is_dir()  # one stat, not one per utterance, when there are none
    for where, r in read_consensus(labels):
        at = ":".join(str(x) for x in where)
        if r["Split_Set"] not in SPLITS:
            raise CorpusError(where[0], f"unknown Split_Set '{r['Split_Set']}' (want {list(SPLITS)})", *where[1:])
        fname = r["FileName"].strip()
        stem = Path(fname).stem
        listed.add(fname)
        split, emo = SPLITS[r["Split_Set"]], r["EmoClass"].strip()
        if split == "test3" and not emo:
            yield _unlabelled(audio_file(audios / fname), at)
            continue
        if emo not in LABELS:
            raise CorpusError(where[0], f"unknown MSP-Podcast label '{emo}' (known: {sorted(LABELS)})", *where[1:])
        tpath = transcripts / f"{stem}.txt" if has_transcripts else None
        spk = r["SpkrID"].strip()
        yield Row(id=stem, path=audio_file(audios / fname),
                  speaker=f"msp_{spk}" if spk and spk.lower() != "unknown" else None,  # unknown: no class
                  gender={"Female": "F", "Male": "M"}.get(r["Gender"].strip(), "U"),
                  native=emo, source=at, split=split,
                  transcript=tpath.read_text(encoding="utf-8").strip() if tpath and tpath.exists() else None,
                  votes=detailed.get(fname),
                  avd=[_float(r[c], where, c) for c in ("EmoAct", "EmoVal", "EmoDom")],
                  extra={"detail_source": dname})
    listed_stems = {Path(x).stem for x in listed}
    blind = sorted(p for p in audios.glob("*") if p.suffix.lower() in AUDIO_EXTENSIONS
                   and "test3" in p.name.lower() and p.stem not in listed_stems)
    if blind:
        log.info("MSP-Podcast: %d Test3 files in Audios/ (no labels: the blind test set)", len(blind))
    for p in blind:
        yield _unlabelled(p, str(p))
