"""The recipes on real speech: train on RAVDESS (actor-disjoint split), score RAVDESS test
in-domain and URDU zero-shot, through the exported model, for several training seeds.

    .venv/bin/python benchmarks/real_corpora.py --real-root ../shared/real [--seeds 0 1 2]
        [--hparams hparams/whisper_tiny_frozen.yaml] [--out /tmp/real_bench] [-- training overrides]

Each seed runs ``./run.sh --data-root REAL --label-overrides "corpora=[ravdess,urdu]
held_out=[urdu] neutral_smoothing=false" --hparams hparams/whisper_tiny_frozen.yaml --seed S``
(stages 0-5) as a user would. Stage 2 splits
RAVDESS by actor with the labels config's own seed, so every training seed sees the same
train / dev / test actors; the feature cache (frozen upstream) is shared by the seeds.

Printed, per seed and as mean ± sample std over seeds:
* RAVDESS test (7 classes of the unified space; calm is scored as neutral): UAR, accuracy,
  macro-F1, each with a 95 % bootstrap interval resampling speakers (1,000 resamples; all the
  utterances of each drawn actor kept: the test set has 5 actors); the utterance-level interval
  is printed once beside it;
* URDU zero-shot (4 classes, predictions restricted to them): UAR, accuracy, with intervals;
* RAVDESS dev UAR (the actors that choose the checkpoint; design choices are made on it);
* the majority-class baseline (accuracy) of each set, chance for UAR, binary arousal UAR
  (high: anger, happiness, fear, surprise; low: neutral, sadness);
* the same UARs with each set's decisions balanced on its own unlabelled utterances
  (``class_scores.balance_offsets``; transductive, reported beside the plain ones);
* wall time of the run (stages 0-5) and the peak RSS of its processes;
* every number above is a lone file's (stage 4's ``lone`` mode: each file alone, as
  ``ser-predict FILE``); for a speaker-normalised model, stage 4's ``speaker`` mode (each test
  file normalised with all of its speaker's test files: transductive) and URDU as one group
  are printed beside, labelled.

The real corpora are not part of the project (``../shared/real`` on the development machine);
without them the script stops with a message.
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from speechbrain_ser import metrics
from speechbrain_ser.metrics import interval_text

ROOT = Path(__file__).resolve().parents[1]
NAN = float("nan")
NOT_RUN = {"n": 0, "classes": 0, "uar": NAN, "accuracy": NAN, "macro_f1": NAN, "balanced_uar": NAN, "arousal_uar": NAN,
           "majority_accuracy": NAN, "chance_uar": NAN, "uar_ci": (NAN, NAN), "per_class_recall": {}}
NATIVE8 = ["angry", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"]


def read_rows(path: Path) -> list:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def restricted(rows: list, allowed: list, balanced: bool = False):
    """(reference class names, predicted class names) with predictions restricted to ``allowed``;
    ``balanced``: decisions after ``class_scores.balance_offsets`` fitted on all the set's utterances."""
    from speechbrain_ser.class_scores import restricted_decisions

    p = np.array([[float(r[f"p_{c}"]) for c in allowed] for r in rows])
    decided = restricted_decisions(p, list(range(len(allowed))), balanced)
    keep = [i for i, r in enumerate(rows) if r["ref"]]
    return np.array([rows[i]["ref"] for i in keep]), np.array([allowed[decided[i]] for i in keep])


def _metrics(refs, preds) -> dict:
    """The project's definitions (``speechbrain_ser.metrics``: UAR and macro-F1 over the classes in
    the references), over the classes that occur."""
    return metrics.classification(refs, preds, sorted(set(refs.tolist()) | set(preds.tolist())))


def uar(refs, preds) -> float:
    return _metrics(refs, preds)["uar"]


def macro_f1(refs, preds) -> float:
    return _metrics(refs, preds)["macro_f1"]


def interval(metric: str, refs, preds, speakers=None) -> tuple:
    """95 % interval of ``metric`` (uar, accuracy, macro_f1) resampling speakers (``metrics.bootstrap_interval``:
    all utterances of each drawn speaker kept); by utterance only when ``speakers`` is None."""
    labels = sorted(set(refs.tolist()) | set(preds.tolist()))
    return metrics.bootstrap_interval(refs, preds, labels, speakers, metric)[:2]


def arousal_uar(refs, preds, corpus: str | None = None) -> float:
    """Binary arousal UAR (high vs low, ``labels/spaces.yaml``; a corpus's native labels through its
    mapping rows): utterances whose reference is in neither group are left out; NaN if none is left."""
    from speechbrain_ser.labels.harmonise import arousal_groups

    group = arousal_groups(set(refs.tolist()) | set(preds.tolist()), corpus)
    keep = np.array([group[r] is not None for r in refs])
    if not keep.any():
        return NAN
    return uar(np.array([group[r] == "high" for r in refs[keep]]), np.array([group[p] == "high" for p in preds[keep]]))


def scores(results: Path, set_name: str, corpus: str, mode: str = "lone") -> dict:
    """Stage 4's predictions of ``set_name`` in scoring ``mode`` (lone: each file alone; speaker: grouped
    by speaker, transductive), restricted to the corpus's classes; intervals resample speakers."""
    from speechbrain_ser.stage import read_entries
    from speechbrain_ser.prediction_files import prediction_file

    inventory = json.loads((results / "inventory.json").read_text())[corpus]
    rows = read_rows(prediction_file(results, set_name, mode))
    entries = read_entries(results.parent.parent / "data" / "labels" / f"{set_name}.json")
    speakers = [entries[r["id"]].get("speaker") for r in rows if r["ref"]]
    refs, preds = restricted(rows, inventory)
    values, counts = np.unique(refs, return_counts=True)
    b_refs, b_preds = restricted(rows, inventory, balanced=True)
    out = {"n": len(refs), "classes": len(inventory), "uar": uar(refs, preds), "accuracy": float((refs == preds).mean()),
           "balanced_uar": uar(b_refs, b_preds),
           "macro_f1": macro_f1(refs, preds), "majority_accuracy": float(counts.max() / counts.sum()),
           "chance_uar": 1 / len(inventory), "arousal_uar": arousal_uar(refs, preds, corpus),
           "per_class_recall": {c: float((preds[refs == c] == c).mean()) for c in values}}
    for k in ("uar", "accuracy", "macro_f1"):
        out[f"{k}_ci"] = interval(k, refs, preds, speakers)
    out["uar_ci_utterances"] = interval("uar", refs, preds)  # printed once beside, to show the difference
    out["speakers"] = len(set(speakers))
    return out


def regrouped(exp: Path, real_root: str, set_name: str, corpus: str, group_by: str | None) -> dict:
    """A speaker-normalised model's scores on ``set_name`` with other groups than stage 4's
    (``group_by``: a manifest field, e.g. ``corpus`` = the whole corpus one group; None = no
    groups, i.e. the training statistics, as for a lone file), through the exported model."""
    from speechbrain_ser.stage import read_entries
    from speechbrain_ser.inference import load

    results = exp / "train" / "results"
    rows = read_rows(results / f"predictions_{set_name}.csv")
    entries = read_entries(exp / "data" / "labels" / f"{set_name}.json")
    model = load(exp / "model")
    ids = [r["id"] for r in rows]
    paths = [entries[u]["wav"].replace("{data_root}", str(Path(real_root).resolve())) for u in ids]
    groups = [entries[u].get(group_by) for u in ids] if group_by else None
    new = list(rows)
    for i, r in model.predict_files(paths, 8, groups=groups):
        if isinstance(r, Exception):
            raise r
        new[i] = {**rows[i], **{f"p_{c}": p for c, p in r["probs"].items()}}
    inventory = json.loads((results / "inventory.json").read_text())[corpus]
    refs, preds = restricted(new, inventory)
    speakers = [entries[r["id"]].get("speaker") for r in new if r["ref"]]
    return {"uar": uar(refs, preds), "uar_ci": interval("uar", refs, preds, speakers),
            "arousal_uar": arousal_uar(refs, preds, corpus)}


def speaker_normalised(exp: Path) -> bool:
    return (exp / "model" / "speaker_norm_layer.ckpt").exists()


def run_seed(a, seed: int, extra: list) -> dict:
    exp = Path(a.out) / f"seed{seed}"
    labels = "corpora=[ravdess] held_out=[] policy=native" if a.native else "corpora=[ravdess,urdu] held_out=[urdu]"
    native = ["--classes", f"[{', '.join(NATIVE8)}]", "--n_classes", "8"] if a.native else []
    cmd = [str(ROOT / "run.sh"), "--data-root", str(Path(a.real_root).resolve()), "--exp-dir", str(exp),
           "--label-overrides", f"{labels} {a.label_overrides}".strip(), "--hparams", a.hparams,
           "--seed", str(seed), "--", "--feature_folder", str(Path(a.out) / "features"), *native, *extra]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    (exp / "benchmark_run.log").parent.mkdir(parents=True, exist_ok=True)
    (exp / "benchmark_run.log").write_text(r.stdout + r.stderr)
    if r.returncode:
        sys.exit(f"seed {seed} failed (log: {exp / 'benchmark_run.log'}):\n{r.stderr[-3000:]}")
    results = exp / "train" / "results"
    out = {"seed": seed, "wall": wall, "ravdess": scores(results, "test", "ravdess"),
           "urdu": scores(results, "zeroshot_urdu", "urdu") if not a.native else NOT_RUN,
           "dev": scores(results, "dev", "ravdess")}
    if speaker_normalised(exp):  # stage 4's speaker mode, and URDU as one group (not timed: scoring)
        out["ravdess_speaker"] = scores(results, "test", "ravdess", "speaker")
        if not a.native:
            out["urdu_speaker"] = scores(results, "zeroshot_urdu", "urdu", "speaker")
            out["urdu_corpus"] = regrouped(exp, a.real_root, "zeroshot_urdu", "urdu", "corpus")
    return out


def fmt(vals) -> str:
    vals = np.asarray(vals, float)
    return f"{vals.mean():.3f} ± {vals.std(ddof=1):.3f}" if len(vals) > 1 else f"{vals.mean():.3f}"


def rescore(out: Path):
    """Print the scores of finished runs under ``out`` (seed*/train/results) without training."""
    for results in sorted(Path(out).glob("seed*/train/results")):
        r = {"ravdess": scores(results, "test", "ravdess"), "urdu": scores(results, "zeroshot_urdu", "urdu"),
             "dev": scores(results, "dev", "ravdess")}
        print(f"{results.parts[-3]}: dev {r['dev']['uar']:.3f} (balanced {r['dev']['balanced_uar']:.3f}); RAVDESS test "
              f"{r['ravdess']['uar']:.3f} (balanced {r['ravdess']['balanced_uar']:.3f}); URDU {r['urdu']['uar']:.3f} "
              f"(balanced {r['urdu']['balanced_uar']:.3f}); arousal {r['ravdess']['arousal_uar']:.3f} / "
              f"{r['urdu']['arousal_uar']:.3f}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real-root", required=True, help="folder holding RAVDESS/ and URDU/ (e.g. ../shared/real)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--hparams", default="hparams/whisper_tiny_frozen.yaml")
    ap.add_argument("--out", default=str(ROOT / "exp" / "real_benchmark"))
    ap.add_argument("--native", action="store_true",
                    help="RAVDESS's native 8-class protocol (calm its own class; label policy native), no URDU")
    ap.add_argument("--label-overrides", default="neutral_smoothing=false",
                    help="more stage-2 overrides (default neutral_smoothing=false: chosen on the RAVDESS dev actors, "
                         "0.744 vs 0.725 with smoothing); '' for the recipe's labels.yaml as it is")
    ap.add_argument("--rescore", action="store_true", help="only print the scores of the runs already in --out")
    a = ap.parse_args(argv)
    if a.rescore:
        return rescore(Path(a.out))
    for c in ("RAVDESS", "URDU"):
        if not (Path(a.real_root) / c).is_dir():
            sys.exit(f"{Path(a.real_root) / c}: not found; this benchmark needs the real corpora (see its docstring)")
    t0 = time.perf_counter()
    runs = [run_seed(a, s, extra) for s in a.seeds]
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"hparams {a.hparams} {' '.join(extra)}; labels {a.label_overrides or 'as configured'}; seeds {a.seeds}; "
          f"results in {a.out}")
    print("| seed | dev UAR | RAVDESS UAR [95% CI] | acc | macro-F1 | arousal UAR | URDU UAR [95% CI] | acc | arousal UAR "
          "| RAVDESS / URDU UAR balanced | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        v, u = r["ravdess"], r["urdu"]
        print(f"| {r['seed']} | {r['dev']['uar']:.3f} | {v['uar']:.3f} {interval_text(*v['uar_ci'])} | {v['accuracy']:.3f} "
              f"| {v['macro_f1']:.3f} | {v['arousal_uar']:.3f} | {u['uar']:.3f} {interval_text(*u['uar_ci'])} | {u['accuracy']:.3f} | {u['arousal_uar']:.3f} "
              f"| {v['balanced_uar']:.3f} / {u['balanced_uar']:.3f} | {r['wall']:.0f} s |")
    print(f"| mean ± std | {fmt([r['dev']['uar'] for r in runs])} | {fmt([r['ravdess']['uar'] for r in runs])} | {fmt([r['ravdess']['accuracy'] for r in runs])} "
          f"| {fmt([r['ravdess']['macro_f1'] for r in runs])} | {fmt([r['ravdess']['arousal_uar'] for r in runs])} "
          f"| {fmt([r['urdu']['uar'] for r in runs])} | {fmt([r['urdu']['accuracy'] for r in runs])} "
          f"| {fmt([r['urdu']['arousal_uar'] for r in runs])} | {fmt([r['ravdess']['balanced_uar'] for r in runs])} / "
          f"{fmt([r['urdu']['balanced_uar'] for r in runs])} | {fmt([r['wall'] for r in runs])} s |")
    v, u = runs[0]["ravdess"], runs[0]["urdu"]
    print(f"RAVDESS test: {v['n']} utterances, {v['classes']} classes, majority-class accuracy "
          f"{v['majority_accuracy']:.3f}, chance UAR {v['chance_uar']:.3f}")
    print(f"URDU zero-shot: {u['n']} utterances, {u['classes']} classes, majority-class accuracy "
          f"{u['majority_accuracy']:.3f}, chance UAR {u['chance_uar']:.3f}")
    for name in ("ravdess", "urdu"):
        rec = {c: fmt([r[name]["per_class_recall"][c] for r in runs]) for c in runs[0][name]["per_class_recall"]}
        print(f"{name} per-class recall: " + ", ".join(f"{c} {x}" for c, x in rec.items()))
    v = runs[0]["ravdess"]
    print(f"intervals resample speakers (RAVDESS test: {v['speakers']} actors, URDU: {runs[0]['urdu'].get('speakers')} "
          f"speakers); by utterance instead, seed {runs[0]['seed']}: RAVDESS UAR [{v['uar_ci_utterances'][0]:.3f}, "
          f"{v['uar_ci_utterances'][1]:.3f}], URDU [{runs[0]['urdu']['uar_ci_utterances'][0]:.3f}, "
          f"{runs[0]['urdu']['uar_ci_utterances'][1]:.3f}]" if not a.native else "")
    if "ravdess_speaker" in runs[0]:
        print("the rows above are lone files (each file alone, as ser-predict FILE). The same speaker-normalised "
              "models in stage 4's speaker mode (transductive: each test file normalised with all of its speaker's "
              "test files) and with URDU as one group:")
        for key, what in (("ravdess_speaker", "RAVDESS test, speaker mode (grouped by actor)"),
                          ("urdu_speaker", "URDU, speaker mode (grouped by the reader's speaker ids)"),
                          ("urdu_corpus", "URDU, the whole corpus one group")):
            if key in runs[0]:
                per = ", ".join(f"seed {r['seed']} {r[key]['uar']:.3f} "
                                f"{interval_text(*r[key]['uar_ci'])}" for r in runs)
                print(f"  {what}: UAR {fmt([r[key]['uar'] for r in runs])} ({per}); arousal UAR "
                      f"{fmt([r[key]['arousal_uar'] for r in runs])}")
    print(f"total {total:.0f} s for {len(runs)} seeds (stages 0-5 each, plus regrouped scoring); peak RSS of a "
          f"child process {peak:.0f} MB")


if __name__ == "__main__":
    main()
