"""An exported model on the real corpora, measured from outside through ``ser-predict`` as a user
runs it: real RAVDESS (7 classes of the unified space; calm scored as neutral) and real URDU
(4 classes), each file's label restricted to the corpus's classes (``--classes``).

    .venv/bin/python benchmarks/model_on_real.py --model exp/Multilingual16/mini/model --real-root ../shared/real [--write-card]

Printed per corpus: UAR with a 95 % bootstrap interval resampling speakers (the corpus readers'
speaker ids: RAVDESS's 24 actors, URDU's speakers; all utterances of each drawn speaker kept), the
utterance-level interval beside it, accuracy, the majority-class baseline, chance for UAR, per-class
recall, binary arousal UAR (``labels/spaces.yaml``), and each
class's one-vs-rest ROC AUC of its probability (scikit-learn: does the model rank the class's files
above the others, whatever it decides?).

Scoring modes: **lone** first (each file alone, ``ser-predict FILE``); for a speaker-normalised model
also **speaker-grouped** (transductive): RAVDESS grouped by folder (``ser-predict --groups folder``:
one folder = one actor, who speaks every emotion), URDU as one group (``--groups all``: its folders
are its emotion labels, so grouping by folder would leak them).

``--write-card``: the printed lines become the model's measurement (``real_speech.json`` in the model
folder, keyed by its weights) and its card's real-speech section (``export.record_real_speech``).
"""
from __future__ import annotations

import argparse
import csv
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from real_corpora import arousal_uar, interval, interval_text, uar  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("ravdess", "urdu")
LABEL_CONFIG = ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml"


def references(real: Path) -> tuple[dict, dict]:
    """({corpus: {path: the class it is scored as}}, {path: speaker}) through the corpus readers (the
    manifests stage 1 writes) and the mapping rows with the recipe's ``score_as`` (RAVDESS calm scored
    as neutral), as stage 2 labels them."""
    from speechbrain_ser import corpora
    from speechbrain_ser.labels.harmonise import load_mapping, scoring_class
    from speechbrain_ser.manifest import build_manifest
    from speechbrain_ser.prepare import load_label_config

    score_as, mapping = load_label_config(LABEL_CONFIG).get("score_as"), load_mapping()
    refs, speakers = {c: {} for c in CORPORA}, {}
    for name in CORPORA:
        mod = corpora.get(name)
        if not (real / mod.DIRNAME).is_dir():
            continue
        m, _ = build_manifest(mod, real / mod.DIRNAME, real, max_reject=1.0)
        for e in m.values():
            path = e["wav"].replace("{data_root}", str(real))
            scored = scoring_class(mapping, name, e["native"], score_as)
            if scored is not None:
                refs[name][path] = scored
                speakers[path] = e["speaker"]
    return refs, speakers


def measure(model: str, corpus: str, ref: dict, speakers: dict, batch_size: int, groups: str | None) -> str:
    classes = sorted(set(ref.values()))
    with tempfile.TemporaryDirectory() as tmp:
        lst, out = Path(tmp) / "files.csv", Path(tmp) / "pred.csv"
        lst.write_text("path\n" + "".join(f"{p}\n" for p in ref))
        r = subprocess.run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", model, str(lst), "--out", str(out),
                            "--classes", ",".join(classes), "--batch-size", str(batch_size),
                            *(["--groups", groups] if groups else [])], capture_output=True, text=True)
        if r.returncode:
            sys.exit(r.stderr[-3000:])
        rows = list(csv.DictReader(open(out)))
    y = np.array([ref[x["path"]] for x in rows])
    p = np.array([x["label"] for x in rows])
    spk = [speakers.get(x["path"]) for x in rows]
    values, counts = np.unique(y, return_counts=True)
    lo, hi = interval("uar", y, p, spk)
    ulo, uhi = interval("uar", y, p)
    recall = ", ".join(f"{c} {(p[y == c] == c).mean():.2f}" for c in values)
    auc = {c: roc_auc_score(y == c, [float(x[f"p_{c}"]) for x in rows]) for c in values}
    return (f"{corpus}: {len(y)} files, {len(set(spk))} speakers, {len(classes)} classes; UAR {uar(y, p):.3f} "
            f"{interval_text(lo, hi, len(set(spk)))} (95 % CI resampling speakers; resampling utterances "
            f"{interval_text(ulo, uhi)}), "
            f"accuracy {(y == p).mean():.3f}, majority-class accuracy {counts.max() / counts.sum():.3f}, "
            f"chance UAR {1 / len(classes):.3f}, arousal UAR {arousal_uar(y, p, corpus):.3f}; recall: {recall}; "
            f"AUC: " + ", ".join(f"{c} {v:.2f}" for c, v in auc.items()) + f" (mean {np.mean(list(auc.values())):.3f})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--real-root", required=True)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--write-card", action="store_true",
                    help="store the measurement in the model folder (real_speech.json) and its card")
    a = ap.parse_args(argv)
    real = Path(a.real_root).resolve()
    refs, speakers = references(real)
    if not refs["ravdess"] or not refs["urdu"]:
        sys.exit(f"{a.real_root}: RAVDESS/ and URDU/ not found")
    modes = [("lone (each file alone, as `ser-predict FILE`)", None)]
    if (Path(a.model) / "speaker_norm_layer.ckpt").exists():  # speaker-normalised: the grouped mode beside
        modes.append(("speaker-grouped (transductive: RAVDESS by actor folder, URDU as one group)", "grouped"))
    lines = []
    for what, groups in modes:
        for corpus, ref in refs.items():
            g = None if groups is None else ("folder" if corpus == "ravdess" else "all")
            line = f"- {what}, " + measure(a.model, corpus, ref, speakers, a.batch_size, g)
            print(line)
            lines.append(line)
    if a.write_card:
        from speechbrain_ser.export import record_real_speech

        command = "python benchmarks/model_on_real.py " + " ".join(shlex.quote(x) for x in
                                                                   (sys.argv[1:] if argv is None else argv))
        command = command.replace(shlex.quote(a.model), "<this folder>").replace(str(real), "<real corpora>")
        record_real_speech(a.model, lines, command.replace(shlex.quote(a.real_root), "<real corpora>"))
        print(f"wrote {Path(a.model) / 'real_speech.json'} and the card's real-speech section")


if __name__ == "__main__":
    main()
