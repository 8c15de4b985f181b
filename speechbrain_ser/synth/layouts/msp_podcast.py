"""Synthetic msp_podcast in its release layout, read back by ``corpora/msp_podcast.py``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import Speaker, Utt
from ..annotators import make_pool, vote
from ..espeak_prosody import blend_avd
from ...corpora import msp_podcast as reader
from ...corpora.base import write_csv
from ...labels.votes import majority

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
        c1 = reader.CODES[rng.choice(8, p=PRIOR)]
        c2 = reader.CODES[rng.choice(8, p=PRIOR)]
        w = 1.0 if rng.random() < 0.3 else float(rng.uniform(0.5, 0.95))
        weights = {c1: 1.0} if (c1 == c2 or w == 1.0) else {c1: w, c2: 1 - w}
        blend = {CONCEPT[c]: x for c, x in weights.items()}
        avd = blend_avd(blend)
        raters = rng.choice(len(pool), int(rng.integers(5, 8)), replace=False)
        votes = [vote(pool[i], weights, reader.CODES, "N", avd, rng) for i in raters]
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
    names = {v: k for k, v in reader.WORDS.items()}
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
    write_csv(root / "Labels" / consensus_name, reader.CONSENSUS, rows)
    if detailed_format in ("both", "json"):
        (root / "Labels" / "labels_detailed.json").write_text(json.dumps(detail_json, indent=1))
    if detailed_format in ("both", "csv"):
        write_csv(root / "Labels" / "labels_detailed.csv", ["FileName", "WorkerID"] + reader.DETAIL, detail_rows)
