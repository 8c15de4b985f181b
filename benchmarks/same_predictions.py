"""Whether a code change kept a trained system as it was: two experiment folders of the same
command and seed (stages 3-4 run by the code before and after), and the before-model loaded by
this checkout.

    .venv/bin/python benchmarks/same_predictions.py BEFORE_EXP AFTER_EXP|- --data-root DIR [--sets test ...]

Prints, for each ``model/*.ckpt``, whether the two exports are byte-identical; for each of stage 4's
prediction files (lone, and ``speaker/`` for a speaker-normalised model) the largest difference of a
probability between the two runs; then this checkout's predictions of BEFORE's exported model, from
the audio, in each scoring mode, against BEFORE's stage 4 (files written to 6 decimals: equal means
a difference below 1e-6). ``-`` for AFTER_EXP skips the two-run comparison.
"""
import argparse
import csv
import hashlib
import json
from pathlib import Path

import numpy as np

from speechbrain_ser import inference
from speechbrain_ser.evaluate import predict_set
from speechbrain_ser.prediction_files import modes_of

ap = argparse.ArgumentParser()
ap.add_argument("before", type=Path)
ap.add_argument("after")
ap.add_argument("--data-root", required=True, help="the data root of BEFORE's manifests ({data_root})")
ap.add_argument("--sets", nargs="+", default=None, help="sets to predict again (default: every one stage 4 wrote)")
a = ap.parse_args()


def probabilities(path: Path) -> dict:
    rows = list(csv.DictReader(open(path)))
    cols = [c for c in rows[0] if c.startswith("p_")]
    return {r["id"]: np.array([float(r[c]) for c in cols]) for r in rows}


def largest_difference(x: dict, y: dict) -> float:
    if x.keys() != y.keys():
        raise SystemExit("the two prediction files hold different utterances")
    return max(float(np.abs(x[k] - y[k]).max()) for k in x)


results = a.before / "train" / "results"
subfolder = {"lone": "", "speaker": "speaker/"}
if a.after != "-":
    after = Path(a.after)
    for ck in sorted((a.before / "model").glob("*.ckpt")):
        other = after / "model" / ck.name
        same = other.exists() and hashlib.sha256(ck.read_bytes()).digest() == hashlib.sha256(other.read_bytes()).digest()
        print(f"weights {ck.name}: {'byte-identical' if same else 'DIFFERENT'}")
    for mode, sub in subfolder.items():
        for f in sorted((results / sub).glob("predictions_*.csv")):
            d = largest_difference(probabilities(f), probabilities(after / "train" / "results" / sub / f.name))
            print(f"stage 4, {mode}, {f.name}: largest |difference| {d:.1e}")

model = inference.load(a.before / "model", device="cpu")
names = a.sets or [f.stem.removeprefix("predictions_") for f in sorted(results.glob("predictions_*.csv"))]
for name in names:
    entries = json.loads((a.before / "data" / "labels" / f"{name}.json").read_text())
    for mode in modes_of(model):
        ids, probs, _, _ = predict_set(model, entries, a.data_root, mode=mode)
        ref = probabilities(results / subfolder[mode] / f"predictions_{name}.csv")
        d = max(float(np.abs(probs[i] - ref[u]).max()) for i, u in enumerate(ids))
        print(f"this checkout, BEFORE's model, {name}, {mode}: largest |difference| from BEFORE's stage 4 "
              f"{d:.1e} ({len(ids)} files)")
