"""Whether a code change kept a trained system as it was: two experiment folders of the same
command and seed (stages 3-4 run by the code before and after), and the before-model loaded by
this checkout.

    .venv/bin/python benchmarks/same_predictions.py BEFORE_EXP AFTER_EXP|- --data-root DIR [--sets test ...]

Prints, for each ``model/*.ckpt``, whether the two exports are byte-identical; for each of stage 4's
prediction files (``prediction_files.prediction_file``: each scoring mode it wrote) the largest
difference of a probability or attribute between the two runs; then this checkout's predictions of
BEFORE's exported model, from the audio, in each scoring mode, against BEFORE's stage 4 (written to
6 decimals: equal means a difference below 1e-6). ``-`` for AFTER_EXP skips the two-run comparison;
``--sets`` limits both to those sets.
"""
import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from speechbrain_ser import inference
from speechbrain_ser.evaluate import predict_set
from speechbrain_ser.prediction_files import MODES, modes_of, prediction_file, read_predictions

ap = argparse.ArgumentParser()
ap.add_argument("before", type=Path)
ap.add_argument("after")
ap.add_argument("--data-root", required=True, help="the data root of BEFORE's manifests ({data_root})")
ap.add_argument("--sets", nargs="+", default=None, help="sets to predict again (default: every one stage 4 wrote)")
a = ap.parse_args()


def outputs(path: Path) -> dict:
    """{id: the row's class probabilities and attributes} of a predictions file."""
    rows, _, probs, attrs = read_predictions(path)
    cols = [x for x in (probs, attrs) if x is not None]
    return {r["id"]: np.concatenate([c[i] for c in cols]) for i, r in enumerate(rows)}


def largest_difference(x: dict, y: dict) -> float:
    if x.keys() != y.keys():
        raise SystemExit("the two prediction files hold different utterances")
    return max(float(np.abs(x[k] - y[k]).max()) for k in x)


results = a.before / "train" / "results"
names = a.sets or [f.stem.removeprefix("predictions_") for f in sorted(results.glob("predictions_*.csv"))]
if a.after != "-":
    after = Path(a.after)
    for ck in sorted((a.before / "model").glob("*.ckpt")):
        other = after / "model" / ck.name
        same = other.exists() and hashlib.sha256(ck.read_bytes()).digest() == hashlib.sha256(other.read_bytes()).digest()
        print(f"weights {ck.name}: {'byte-identical' if same else 'DIFFERENT'}")
    for mode in MODES:
        for name in names:
            mine = prediction_file(results, name, mode)
            if mine.exists():
                d = largest_difference(outputs(mine), outputs(prediction_file(after / "train" / "results", name, mode)))
                print(f"stage 4, {mode}, {name}: largest |difference| {d:.1e}")

model = inference.load(a.before / "model", device="cpu")
for name in names:
    entries = json.loads((a.before / "data" / "labels" / f"{name}.json").read_text())
    for mode in modes_of(model):
        ids, probs, attrs, _ = predict_set(model, entries, a.data_root, mode=mode)
        ref = outputs(prediction_file(results, name, mode))
        mine = np.concatenate([x for x in (probs, attrs) if x is not None], 1)
        d = max(float(np.abs(mine[i] - ref[u]).max()) for i, u in enumerate(ids))
        print(f"this checkout, BEFORE's model, {name}, {mode}: largest |difference| from BEFORE's stage 4 "
              f"{d:.1e} ({len(ids)} files)")
