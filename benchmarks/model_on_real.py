"""An exported model on the real corpora, measured from outside through ``ser-predict`` as a user
runs it: real RAVDESS (7 classes of the unified space; calm scored as neutral) and real URDU
(4 classes), each file's label restricted to the corpus's classes (``--classes``).

    .venv/bin/python benchmarks/model_on_real.py --model exp/Multilingual16/mini/model --real-root ../shared/real

Printed per corpus: UAR with a 95 % bootstrap interval, accuracy, the majority-class baseline,
chance for UAR, per-class recall, and binary arousal UAR (high: anger, happiness, fear, surprise;
low: neutral, sadness), and each class's one-vs-rest ROC AUC of its probability (scikit-learn: does
the model rank the class's files above the others, whatever it decides?). For the default model of ``./run.sh`` (trained on the embedded synthetic
data) these are the numbers the README and the model card state next to the synthetic ones.

``--speaker-groups`` (speaker-normalised models): RAVDESS files are grouped by folder
(``ser-predict --groups folder``: one folder = one actor, who speaks every emotion); URDU as one
group (``--groups all``: its folders are its emotion labels, so grouping by folder would leak
them, and its file names' speakers are mostly heard in one emotion).
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from real_corpora import arousal_uar, bootstrap, uar  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RAVDESS = {"01": "neutral", "02": "neutral", "03": "happiness", "04": "sadness", "05": "anger", "06": "fear",
           "07": "disgust", "08": "surprise"}  # calm (02) scored as neutral, as the recipe's score_as does
URDU = {"Angry": "anger", "Happy": "happiness", "Neutral": "neutral", "Sad": "sadness"}


def references(real: Path) -> dict:
    out = {"ravdess": {}, "urdu": {}}
    for p in sorted((real / "RAVDESS").rglob("*")):
        m = re.fullmatch(r"03-01-(\d\d)-\d\d-\d\d-\d\d-\d\d", p.stem)
        if m and p.is_file():
            out["ravdess"][str(p)] = RAVDESS[m[1]]
    for p in sorted((real / "URDU").rglob("*")):
        if p.is_file() and p.parent.name in URDU:
            out["urdu"][str(p)] = URDU[p.parent.name]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--real-root", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--speaker-groups", action="store_true",
                    help="speaker-normalised models: RAVDESS grouped by actor folder, URDU as one group")
    a = ap.parse_args(argv)
    refs = references(Path(a.real_root))
    if not refs["ravdess"] or not refs["urdu"]:
        sys.exit(f"{a.real_root}: RAVDESS/ and URDU/ not found")
    for corpus, ref in refs.items():
        classes = sorted(set(ref.values()))
        with tempfile.TemporaryDirectory() as tmp:
            lst, out = Path(tmp) / "files.csv", Path(tmp) / "pred.csv"
            lst.write_text("path\n" + "".join(f"{p}\n" for p in ref))
            r = subprocess.run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", a.model, str(lst), "--out", str(out),
                                "--classes", ",".join(classes), "--batch-size", str(a.batch_size),
                                *(["--groups", "folder" if corpus == "ravdess" else "all"] if a.speaker_groups else [])],
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit(r.stderr[-3000:])
            rows = list(csv.DictReader(open(out)))
        y = np.array([ref[x["path"]] for x in rows])
        p = np.array([x["label"] for x in rows])
        values, counts = np.unique(y, return_counts=True)
        lo, hi = bootstrap(uar, y, p)
        recall = ", ".join(f"{c} {(p[y == c] == c).mean():.2f}" for c in values)
        auc = {c: roc_auc_score(y == c, [float(x[f"p_{c}"]) for x in rows]) for c in values}
        print(f"{corpus}: {len(y)} files, {len(classes)} classes; UAR {uar(y, p):.3f} [{lo:.3f}, {hi:.3f}], "
              f"accuracy {(y == p).mean():.3f}, majority-class accuracy {counts.max() / counts.sum():.3f}, "
              f"chance UAR {1 / len(classes):.3f}, arousal UAR {arousal_uar(y, p):.3f}; recall: {recall}; "
              f"AUC: " + ", ".join(f"{c} {v:.2f}" for c, v in auc.items()) + f" (mean {np.mean(list(auc.values())):.3f})")


if __name__ == "__main__":
    main()
