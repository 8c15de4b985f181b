"""MSP-Podcast (Lotfian & Busso, 2019; challenge releases 1.11/1.12).

Files read (release layout):

* ``Audios/MSP-PODCAST_<podcast>_<segment>.wav``;
* ``Labels/labels_consensus.csv`` (older releases: ``labels_concensus.csv``) with
  columns ``FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set``;
  EmoClass is one of A,S,H,U,F,D,C,N (8 classes), O (other), X (no agreement);
  Split_Set is Train, Development, Test1, Test2 or Test3;
* per-annotator detail, either ``Labels/labels_detailed.json``
  (file → worker → ``EmoClass_Major``, ``EmoClass_Second``, ``EmoAct``, ``EmoVal``,
  ``EmoDom``) or the newer ``Labels/labels_detailed.csv`` (one row per file and
  worker, columns ``FileName,WorkerID,EmoClass_Major,EmoClass_Second,EmoAct,EmoVal,EmoDom``);
  EmoClass values are words (Angry, Sad, ...); any word outside the 8 classes
  ("Other", "Other-...", "Concerned", ...) counts as O;
* ``Transcripts/<stem>.txt`` when present.

The module logs which consensus spelling and which detailed format it found.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .base import CorpusError, Row, Speaker, Utt, check_label, read_csv, write_csv
from ..labels.votes import majority
from ..synth.annotators import make_pool, vote
from ..synth.prosody import PROTOTYPES, blend_avd

log = logging.getLogger(__name__)
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
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise CorpusError(*where, f"{col} is not a number: {v!r}") from None
    if not np.isfinite(x):
        raise CorpusError(*where, f"{col} is not finite: {v!r}")
    return x


def _vote(worker, d, where):
    return {"worker": worker, "primary": word_code(d["EmoClass_Major"]),
            "secondary": sorted({word_code(w) for w in str(d["EmoClass_Second"]).split(",") if w.strip()}),
            "avd": [_float(d[c], where, c) for c in ("EmoAct", "EmoVal", "EmoDom")]}


def read_detailed(labels: Path) -> tuple[dict, str]:
    """file → list of votes, and the name of the file read."""
    js, cs = labels / "labels_detailed.json", labels / "labels_detailed.csv"
    votes: dict = {}
    if cs.exists():
        for n, r in read_csv(cs, ["FileName", "WorkerID"] + DETAIL):
            votes.setdefault(r["FileName"], []).append(_vote(r["WorkerID"], r, (cs, n)))
        return votes, cs.name
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


def prepare(root: Path):
    labels = root / "Labels"
    for name in ("labels_consensus.csv", "labels_concensus.csv"):
        consensus = labels / name
        if consensus.exists():
            break
    else:
        raise CorpusError(labels, "neither labels_consensus.csv nor labels_concensus.csv found")
    detailed, dname = read_detailed(labels)
    log.info("MSP-Podcast: consensus labels from %s; annotator detail from %s", consensus.name,
             dname or "(none: no P/S targets)")
    for n, r in read_csv(consensus, CONSENSUS):
        where = (consensus, n)
        if r["Split_Set"] not in SPLITS:
            raise CorpusError(*where, f"unknown Split_Set '{r['Split_Set']}' (want {list(SPLITS)})")
        fname = r["FileName"]
        stem = Path(fname).stem
        tpath = root / "Transcripts" / f"{stem}.txt"
        spk = r["SpkrID"].strip()
        yield Row(id=stem, path=root / "Audios" / fname,
                  speaker=f"msp_{spk}" if spk and spk.lower() != "unknown" else f"msp_unknown_{stem}",
                  gender={"Female": "F", "Male": "M"}.get(r["Gender"].strip(), "U"),
                  native=check_label(r["EmoClass"].strip(), LABELS, f"{consensus}:{n}", "MSP-Podcast"),
                  source=f"{consensus}:{n}", split=SPLITS[r["Split_Set"]],
                  transcript=tpath.read_text(encoding="utf-8").strip() if tpath.exists() else None,
                  votes=detailed.get(fname),
                  avd=[_float(r[c], where, c) for c in ("EmoAct", "EmoVal", "EmoDom")],
                  extra={"detail_source": dname})


# ---- synthetic layout -------------------------------------------------------
CONCEPT = {"A": "anger", "S": "sadness", "H": "happiness", "U": "surprise", "F": "fear",
           "D": "disgust", "C": "contempt", "N": "neutral"}
PRIOR = np.array([0.07, 0.09, 0.20, 0.05, 0.04, 0.05, 0.08, 0.42])  # naturalistic: neutral-heavy
SENTENCES = ["So we talked about this last week on the show.", "I honestly did not expect that.",
             "You know, it really depends on the day.", "That was the best part of the whole trip.",
             "Nobody told me anything about it.", "Well, let me tell you what happened next.",
             "I just think people deserve better than that.", "We will be right back after this."]
EXTRA_WORDS = ["Concerned", "Amused", "Frustrated", "Disappointed", "Confused", "Annoyed"]
VOICE = "en-us"


def plan(size: str, rng: np.random.Generator):
    n_utts, n_spk = {"tiny": (40, 10), "mini": (480, 40)}[size]
    pool = make_pool(25, rng)
    split_cycle = ["Train"] * 6 + ["Development"] * 2 + ["Test1", "Test2"]
    speakers = [Speaker(str(100 + i), "FM"[i % 2]) for i in range(n_spk)]
    split_of = {s.id: split_cycle[i % len(split_cycle)] for i, s in enumerate(speakers)}
    utts = []
    for k in range(n_utts):
        spk = speakers[int(rng.integers(n_spk))]
        c1 = CODES[rng.choice(8, p=PRIOR)]
        c2 = CODES[rng.choice(8, p=PRIOR)]
        w = 1.0 if rng.random() < 0.3 else float(rng.uniform(0.5, 0.95))
        weights = {c1: 1.0} if (c1 == c2 or w == 1.0) else {c1: w, c2: 1 - w}
        blend = {CONCEPT[c]: x for c, x in weights.items()}
        avd = blend_avd(blend)
        raters = rng.choice(len(pool), int(rng.integers(5, 8)), replace=False)
        votes = [vote(pool[i], weights, CODES, "N", avd, rng) for i in raters]
        prim = ["O" if v["primary"] == "other" else v["primary"] for v in votes]
        m = majority(prim)
        utts.append(Utt(speaker=spk, native=m, index=k,
                        sentence=(str(k), SENTENCES[int(rng.integers(len(SENTENCES)))]), blend=blend,
                        extra=dict(weights=weights, votes=votes, workers=[pool[i].worker for i in raters],
                                   split=split_of[spk.id], podcast=1 + k // 12, segment=1 + k % 12)))
    return utts


def voice_for(u):
    return VOICE


def text_for(u):
    return u.sentence[1]


def file_name(u):
    return f"MSP-PODCAST_{u.extra['podcast']:04d}_{u.extra['segment']:04d}.wav"


def wav_path(u):
    return f"Audios/{file_name(u)}"


def write_meta(root: Path, utts, detailed_format: str = "both", consensus_name: str = "labels_consensus.csv"):
    names = {v: k for k, v in WORDS.items()}
    rng = np.random.default_rng(len(utts))
    rows, detail_rows, detail_json = [], [], {}
    for u in utts:
        f = file_name(u)
        a, v, d = np.mean([x["avd"] for x in u.extra["votes"]], axis=0)
        rows.append([f, u.native, f"{a:.4f}", f"{v:.4f}", f"{d:.4f}", u.speaker.id,
                     {"F": "Female", "M": "Male"}[u.speaker.gender], u.extra["split"]])
        detail_json[f] = {}
        for w, x in zip(u.extra["workers"], u.extra["votes"]):
            major = "Other" if x["primary"] == "other" else names[x["primary"]]
            second = ",".join(names[c] if c in names else EXTRA_WORDS[int(rng.integers(len(EXTRA_WORDS)))]
                              for c in x["secondary"])
            rec = {"EmoClass_Major": major, "EmoClass_Second": second,
                   "EmoAct": x["avd"][0], "EmoVal": x["avd"][1], "EmoDom": x["avd"][2]}
            detail_json[f][w] = rec
            detail_rows.append([f, w, major, second] + x["avd"])
        (root / "Transcripts").mkdir(parents=True, exist_ok=True)
        (root / "Transcripts" / f"{Path(f).stem}.txt").write_text(u.sentence[1] + "\n", encoding="utf-8")
    write_csv(root / "Labels" / consensus_name, CONSENSUS, rows)
    if detailed_format in ("both", "json"):
        (root / "Labels" / "labels_detailed.json").write_text(json.dumps(detail_json, indent=1))
    if detailed_format in ("both", "csv"):
        write_csv(root / "Labels" / "labels_detailed.csv", ["FileName", "WorkerID"] + DETAIL, detail_rows)
