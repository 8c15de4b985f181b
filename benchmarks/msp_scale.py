"""Stages 1-2 of the MSP-Podcast recipe at the real corpus's size.

    .venv/bin/python benchmarks/msp_scale.py [--utterances 250000] [--workers 12000] [--format json csv]

Writes a simulated ``MSP-Podcast/`` release in a temporary folder: ``Audios/``
with ``--utterances`` labelled files plus 3,200 blind Test3 files, every one a
hard link to one of 8 short WAV files (so stage 1 reads real headers but the
disk holds 8 files); ``Labels/labels_consensus.csv`` (8 classes + O + X,
Train / Development / Test1 / Test2 in roughly the release's shares, ~1,400
speakers); the per-annotator detail with 5-7 votes per file from ``--workers``
workers (primary and secondary emotions, A/V/D), in the JSON
(``labels_detailed.json``) or the newer CSV (``labels_detailed.csv``) format.
Then, per format, stage 1 (``prepare manifests``) and stage 2 (``prepare labels``
with ``recipes/MSP-Podcast/conf/labels.yaml``) run in a fresh process each;
printed: wall time and peak RSS of each stage (``ru_maxrss`` of the process).
Goal: stages 1 + 2 <= 3 minutes and <= 4 GB peak RSS.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, timed  # noqa: E402
WORDS = ["Angry", "Sad", "Happy", "Surprise", "Fear", "Disgust", "Contempt", "Neutral"]
CODES = ["A", "S", "H", "U", "F", "D", "C", "N"]
SPLITS = [("Train", 0.66), ("Development", 0.13), ("Test1", 0.14), ("Test2", 0.07)]


def make_release(root: Path, n: int, n_workers: int, fmt: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    audios, labels = root / "Audios", root / "Labels"
    audios.mkdir(parents=True)
    labels.mkdir()
    sources = []
    for k in range(8):
        p = root / f"source_{k}.wav"
        sf.write(p, (0.1 * rng.standard_normal(int(16000 * (1.5 + 0.25 * k)))).astype("float32"), 16000,
                 subtype="PCM_16")
        sources.append(p)
    names = [f"MSP-PODCAST_{1 + i // 40:04d}_{i % 40:04d}.wav" for i in range(n)]
    for i, name in enumerate(names):
        os.link(sources[i % 8], audios / name)
    for i in range(3200):
        os.link(sources[i % 8], audios / f"MSP-PODCAST_test3_{i + 1:04d}.wav")
    split_of = rng.choice(len(SPLITS), size=n, p=[s for _, s in SPLITS])
    speakers = rng.integers(1, 1400, size=n)
    gender = np.where(speakers % 2 == 0, "Female", "Male")
    # votes: a per-utterance emotion distribution; 5-7 workers from the pool
    n_votes = rng.integers(5, 8, size=n)
    major = rng.choice(8, size=n, p=[.08, .08, .2, .03, .02, .03, .04, .52])
    detail_rows = []
    cons = [["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]]
    for i, name in enumerate(names):
        workers = rng.choice(n_workers, size=n_votes[i], replace=False)
        prim = np.where(rng.random(n_votes[i]) < 0.6, major[i], rng.integers(0, 8, size=n_votes[i]))
        other = rng.random(n_votes[i]) < 0.05
        avd = np.clip(rng.normal(4, 1, size=(n_votes[i], 3)).round(), 1, 7)
        counts = np.bincount(prim[~other], minlength=8)
        cls = CODES[int(counts.argmax())] if counts.max() > n_votes[i] / 2 else "X"
        for w, p, o, a in zip(workers, prim, other, avd):
            second = ",".join(WORDS[j] for j in rng.choice(8, size=int(rng.integers(0, 3)), replace=False))
            detail_rows.append((name, f"WORKER{w:05d}", "Other-concerned" if o else WORDS[p], second, *a))
        m = avd.mean(0)
        cons.append([name, cls, f"{m[0]:.2f}", f"{m[1]:.2f}", f"{m[2]:.2f}", str(speakers[i]), gender[i],
                     SPLITS[split_of[i]][0]])
    with open(labels / "labels_consensus.csv", "w", newline="") as f:
        csv.writer(f).writerows(cons)
    if fmt == "csv":
        with open(labels / "labels_detailed.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["FileName", "WorkerID", "EmoClass_Major", "EmoClass_Second", "EmoAct", "EmoVal", "EmoDom"])
            w.writerows(detail_rows)
    else:
        doc: dict = {}
        for name, worker, maj, sec, a, v, d in detail_rows:
            doc.setdefault(name, {})[worker] = {"EmoClass_Major": maj, "EmoClass_Second": sec,
                                                "EmoAct": a, "EmoVal": v, "EmoDom": d}
        with open(labels / "labels_detailed.json", "w") as f:
            json.dump(doc, f)
    return len(detail_rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--utterances", type=int, default=250_000)
    ap.add_argument("--workers", type=int, default=12_000)
    ap.add_argument("--format", nargs="+", default=["json", "csv"], choices=["json", "csv"])
    a = ap.parse_args()
    print(f"simulated MSP-Podcast: {a.utterances} labelled utterances + 3200 Test3 files, {a.workers} workers")
    print(f"{'detail':>7} {'votes':>9} {'stage':>7} {'wall s':>8} {'peak RSS MB':>12}")
    for fmt in a.format:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            t0 = time.perf_counter()
            n_votes = make_release(data / "MSP-Podcast", a.utterances, a.workers, fmt)
            made = time.perf_counter() - t0
            exp = Path(tmp) / "exp"
            s1 = timed(["speechbrain_ser.prepare", "manifests", "--data-root", str(data), "--corpora", "msp_podcast",
                        "--out", str(exp / "manifests")])
            s2 = timed(["speechbrain_ser.prepare", "labels", "--config",
                        str(ROOT / "recipes" / "MSP-Podcast" / "conf" / "labels.yaml"),
                        "--manifests", str(exp / "manifests"), "--out", str(exp / "labels")])
            n_rows = sum(len(json.loads(p.read_text())) for p in (exp / "labels").glob("msp_podcast_*.json"))
            print(f"{fmt:>7} {n_votes:>9d} {'1':>7} {s1[0]:>8.1f} {s1[1]:>12.0f}")
            print(f"{fmt:>7} {n_votes:>9d} {'2':>7} {s2[0]:>8.1f} {s2[1]:>12.0f}")
            print(f"{fmt:>7} {'':>9} {'1+2':>7} {s1[0] + s2[0]:>8.1f} {max(s1[1], s2[1]):>12.0f}"
                  f"   ({n_rows} rows in the stage-2 split files; release written in {made:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
