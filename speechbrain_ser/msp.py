"""MSP-Podcast stages 4-5 and the analyses of the challenge papers.

    python -m speechbrain_ser.msp evaluate HPARAMS --labels_folder L --data_root D --output_folder O
    python -m speechbrain_ser.msp report --exp-dir E [--command "..."]
    python -m speechbrain_ser.msp seeds --runs DIR                # mean ± std over <name>_seed<k> runs
    python -m speechbrain_ser.msp ensemble --systems E1 E2 ... --out DIR
    python -m speechbrain_ser.msp easy-difficult --systems E1 E2 E3 --labels L --out FILE

``evaluate`` writes, under ``O/results/``: ``predictions_<set>.csv`` (class
probabilities, A/V/D on the 1-7 scale) for dev/test1/test2/test3;
``thresholds.json``: per-class logit offsets tuned on Development to maximise
macro-F1 (CONILIUM's post-processing; coordinate ascent over a grid), applied
unchanged to the test sets; ``msp_metrics.csv`` (macro/micro/weighted F1,
accuracy, UAR on the 8 classes, raw and tuned; CCC per attribute and mean); and
the challenge submission files ``submission_categorical_<set>.csv``
(``FileName,EmoClass``) and ``submission_attributes_<set>.csv``
(``FileName,EmoAct,EmoVal,EmoDom``).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from . import metrics
from .data import read_entries
from .labels.votes import krippendorff_alpha
from .report import markdown, read_csv, write_self_description
from .stage import Stage, save_figure_atomic, write_csv_atomic, write_json_atomic

CLASSES = ["A", "S", "H", "U", "F", "D", "C", "N"]
ATTRS = ["EmoAct", "EmoVal", "EmoDom"]
SETS = ["dev", "test1", "test2", "test3"]
CAT = ["macro_f1", "micro_f1", "weighted_f1", "accuracy", "uar"]


# ---- threshold tuning -----------------------------------------------------------
def apply_offsets(probs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    return (np.log(np.clip(probs, 1e-9, 1)) + offsets).argmax(1)


def tune_offsets(probs, refs, grid=np.arange(-3, 3.01, 0.25), rounds=3) -> np.ndarray:
    """Per-class log-probability offsets maximising macro-F1 on (probs, refs)."""
    off = np.zeros(probs.shape[1])

    def score(o):
        return metrics.classification(refs, apply_offsets(probs, o), range(len(CLASSES)))["macro_f1"]

    best = score(off)
    for _ in range(rounds):
        improved = False
        for c in range(probs.shape[1]):
            for g in grid:
                trial = off.copy()
                trial[c] = g
                s = score(trial)
                if s > best + 1e-9:
                    best, off, improved = s, trial, True
        if not improved:
            break
    return off


# ---- evaluation -------------------------------------------------------------------
def _labelled(entries, ids):
    return np.array([CLASSES.index(entries[u]["hard"]) if entries[u].get("hard") in CLASSES else -1
                     for u in ids])


def score_set(entries, ids, probs, avd, offsets=None) -> dict:
    out = {}
    refs = _labelled(entries, ids)
    keep = refs >= 0
    if probs is not None and keep.any():
        preds = probs.argmax(1) if offsets is None else apply_offsets(probs, offsets)
        out.update(metrics.classification(refs[keep], preds[keep], range(len(CLASSES))))
    if avd is not None:
        gold = np.array([entries[u].get("avd") or [np.nan] * 3 for u in ids], float)
        ok = np.isfinite(gold).all(1)
        if ok.sum() > 1:
            c = [metrics.ccc(avd[ok, i], gold[ok, i]) for i in range(3)]
            out.update(ccc_a=c[0], ccc_v=c[1], ccc_d=c[2], ccc_mean=float(np.mean(c)))
    return out


def write_predictions(path: Path, entries, ids, probs, avd):
    rows = []
    for i, u in enumerate(ids):
        row = [u, entries[u].get("native") or ""]
        row += [f"{p:.5f}" for p in probs[i]] if probs is not None else [""] * len(CLASSES)
        row += [f"{x:.4f}" for x in avd[i]] if avd is not None else [""] * 3
        rows.append(row)
    write_csv_atomic(path, ["id", "ref"] + [f"p_{c}" for c in CLASSES] + ATTRS, rows)


def read_predictions(path: Path):
    rows = read_csv(path)
    ids = [r["id"] for r in rows]
    probs = np.array([[float(r[f"p_{c}"]) for c in CLASSES] for r in rows]) if rows[0]["p_A"] else None
    avd = np.array([[float(r[a]) for a in ATTRS] for r in rows]) if rows[0]["EmoAct"] else None
    return ids, probs, avd


def write_submissions(out: Path, name: str, ids, probs, avd, offsets):
    if probs is not None:
        write_csv_atomic(out / f"submission_categorical_{name}.csv", ["FileName", "EmoClass"],
                         [[f"{u}.wav", CLASSES[p]] for u, p in zip(ids, apply_offsets(probs, offsets))])
    if avd is not None:
        write_csv_atomic(out / f"submission_attributes_{name}.csv", ["FileName"] + ATTRS,
                         [[f"{u}.wav"] + [f"{x:.4f}" for x in a] for u, a in zip(ids, avd)])


def metrics_rows(results: Path, labels: Path) -> list:
    """Score every predictions file in ``results`` (raw and with tuned thresholds)."""
    rows, offsets = [], None
    dev_path = results / "predictions_dev.csv"
    if dev_path.exists():
        ids, probs, _ = read_predictions(dev_path)
        entries = read_entries(labels / "dev.json")
        refs = _labelled(entries, ids)
        if probs is not None and (refs >= 0).any():
            offsets = tune_offsets(probs[refs >= 0], refs[refs >= 0])
            write_json_atomic(results / "thresholds.json", dict(zip(CLASSES, offsets.tolist())))
    for name in SETS:
        p = results / f"predictions_{name}.csv"
        if not p.exists():
            continue
        ids, probs, avd = read_predictions(p)
        entries = read_entries(labels / f"{name}.json")
        for tuned in (False, True):
            if tuned and (offsets is None or probs is None):
                continue
            s = score_set(entries, ids, probs, avd if not tuned else None, offsets if tuned else None)
            if s:
                rows.append({"set": name, "thresholds": "tuned on dev" if tuned else "argmax",
                             **{k: round(v, 4) for k, v in s.items() if k != "n"}, "n": s.get("n", len(ids))})
        write_submissions(results, name, ids, probs, avd, offsets if offsets is not None else np.zeros(8))
    return rows


def write_metrics(results: Path, rows: list):
    fields = ["set", "thresholds", "n"] + CAT + ["ccc_a", "ccc_v", "ccc_d", "ccc_mean"]
    write_csv_atomic(results / "msp_metrics.csv", fields, [{k: r.get(k, "") for k in fields} for r in rows])


def evaluate(argv):
    """Stage 4 (a stage with a marker: rerunning on the same training run and labels does nothing)."""
    from .train import stage4_options

    results, options = stage4_options(argv)
    with Stage(results, options, "stage 4 evaluate") as st:
        if st.done:
            print(f"stage 4: {results} is up to date (same training run and labels); nothing to do")
            return
        _evaluate(argv, results)


def _evaluate(argv, results: Path):
    from .train import build, make_datasets

    hp, brain, domains, labels = build(argv, for_training=False)
    ckpt = brain.checkpointer.recover_if_possible(**{f"{hp['select_mode']}_key": hp["select_key"]})
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {hp['save_folder']}: run stage 3 first")
    sets = {name: labels / f"{name}.json" for name in SETS if (labels / f"{name}.json").exists()}
    datasets = make_datasets(hp, brain, sets, domains, keep_all=True)
    for name, path in sets.items():
        entries = read_entries(path)
        ids, probs, _, avd = brain.predict(datasets[name], hp["batch_size"])
        if avd is not None:
            avd = 1 + 6 * avd  # back to the 1-7 scale of the labels
        write_predictions(results / f"predictions_{name}.csv", entries, ids, probs, avd)
    rows = metrics_rows(results, labels)
    write_metrics(results, rows)
    print(f"checkpoint {ckpt.path.name}; wrote {results / 'msp_metrics.csv'}")


# ---- report -------------------------------------------------------------------------
def report(exp_dir: Path, command: str | None) -> str:
    from .report import report_stage

    return report_stage(exp_dir, lambda results, out: _report(results, out, command))


def _report(results: Path, out: Path, command: str | None) -> str:
    rows = read_csv(results / "msp_metrics.csv")
    cols = ["set", "thresholds", "n"] + [c for c in CAT + ["ccc_a", "ccc_v", "ccc_d", "ccc_mean"]
                                         if any(r.get(c) for r in rows)]
    md = "## MSP-Podcast\n\n" + markdown(rows, cols) + "\n"
    dev = [r for r in rows if r["set"] == "dev"]
    if dev:
        by = {r["thresholds"]: r for r in dev}
        f1 = {k: by[k]["macro_f1"] for k in ("argmax", "tuned on dev") if k in by and by[k].get("macro_f1")}
        ccc = next((r["ccc_mean"] for r in dev if r.get("ccc_mean")), "-")
        md += ("\nDevelopment: macro-F1 " + ", ".join(f"{v} ({k})" for k, v in f1.items())
               + f"; mean CCC {ccc}. Thresholds tuned on Development make its tuned score in-sample; "
                 "the test sets use the same thresholds unchanged.\n")
    pred = results / "predictions_dev.csv"
    if pred.exists() and read_csv(pred)[0]["p_A"]:
        _confusion_msp(pred, out / "confusion_dev.png")
    write_self_description(out, md, command)
    return md


def _confusion_msp(pred_csv: Path, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    ids, probs, _ = read_predictions(pred_csv)
    refs = [r["ref"] for r in read_csv(pred_csv)]
    keep = [i for i, r in enumerate(refs) if r in CLASSES]
    y = [CLASSES.index(refs[i]) for i in keep]
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ConfusionMatrixDisplay.from_predictions(y, probs[keep].argmax(1), labels=list(range(8)), display_labels=CLASSES,
                                            normalize="true", values_format=".2f", ax=ax, colorbar=False)
    ax.set_title("Development (% of reference labels)")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)


# ---- seeds, ensembles, easy/difficult ----------------------------------------------
def seeds_table(runs: Path) -> str:
    groups: dict = {}
    for m in sorted(runs.glob("*_seed*/train/results/msp_metrics.csv")):
        name = m.parts[-4].rsplit("_seed", 1)[0]
        for r in read_csv(m):
            groups.setdefault((r["set"], name, r["thresholds"]), []).append(r)
    keys = ["macro_f1", "micro_f1", "uar", "ccc_mean"]
    rows = []
    for (split, name, th), rs in sorted(groups.items(), key=lambda kv: (SETS.index(kv[0][0]), kv[0][1:])):
        row = {"set": split, "system": name, "thresholds": th, "seeds": len(rs)}
        for k in keys:
            vals = [float(r[k]) for r in rs if r.get(k)]
            row[k] = metrics.mean_std(vals)
        rows.append(row)
    return ("Mean ± sample std (n-1) over seeds (dev selects the checkpoint and tunes the thresholds; "
            "test sets are unseen)\n\n" + markdown(rows, ["set", "system", "thresholds", "seeds"] + keys) + "\n")


def ensemble(systems: list, out: Path, labels: Path) -> list:
    """Average class probabilities and attribute predictions of several trained systems."""
    out.mkdir(parents=True, exist_ok=True)
    for name in SETS:
        paths = [Path(s) / "train" / "results" / f"predictions_{name}.csv" for s in systems]
        if not all(p.exists() for p in paths):
            continue
        preds = [read_predictions(p) for p in paths]
        ids = preds[0][0]
        for other in preds[1:]:
            if other[0] != ids:
                raise SystemExit(f"{name}: systems predicted different utterances; cannot ensemble")
        probs = [p[1] for p in preds if p[1] is not None]
        avds = [p[2] for p in preds if p[2] is not None]
        write_predictions(out / f"predictions_{name}.csv", read_entries(labels / f"{name}.json"), ids,
                          np.mean(probs, 0) if probs else None, np.mean(avds, 0) if avds else None)
    rows = metrics_rows(out, labels)
    write_metrics(out, rows)
    return rows


def easy_difficult(systems: list, labels: Path, name: str = "dev") -> str:
    """CONILIUM §4: utterances all systems get right (easy) or all get wrong (difficult)."""
    entries = read_entries(labels / f"{name}.json")
    correct = []
    for s in systems:
        ids, probs, _ = read_predictions(Path(s) / "train" / "results" / f"predictions_{name}.csv")
        refs = _labelled(entries, ids)
        correct.append({u: bool(p == r) for u, p, r in zip(ids, probs.argmax(1), refs) if r >= 0})
    common = set.intersection(*(set(c) for c in correct))
    groups = {"easy": [u for u in common if all(c[u] for c in correct)],
              "difficult": [u for u in common if not any(c[u] for c in correct)]}
    spk_count: dict = {}
    for e in entries.values():
        spk_count[e["speaker"]] = spk_count.get(e["speaker"], 0) + 1
    rows = []
    for g, us in groups.items():
        d = [entries[u]["duration"] for u in us]
        units = [{v["worker"]: v["primary"] for v in entries[u]["votes"]} for u in us if entries[u].get("votes")]
        rows.append({"group": g, "count": len(us),
                     "duration": metrics.mean_std(d, 2),
                     "alpha": f"{krippendorff_alpha(units):.3f}" if len(units) > 1 else "-",
                     "speaker_freq": f"{np.mean([spk_count[entries[u]['speaker']] for u in us]):.1f}" if us else "-",
                     "female": sum(entries[u]["gender"] == "F" for u in us),
                     "male": sum(entries[u]["gender"] == "M" for u in us)})
    return (f"Easy/difficult {name} utterances across {len(systems)} systems ({len(common)} scored)\n\n"
            + markdown(rows, ["group", "count", "duration", "alpha", "speaker_freq", "female", "male"]) + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "evaluate":
        return evaluate(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.msp")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--exp-dir", required=True, type=Path)
    r.add_argument("--command", default=None)
    s = sub.add_parser("seeds")
    s.add_argument("--runs", required=True, type=Path)
    e = sub.add_parser("ensemble")
    e.add_argument("--systems", nargs="+", required=True)
    e.add_argument("--labels", required=True, type=Path)
    e.add_argument("--out", required=True, type=Path)
    d = sub.add_parser("easy-difficult")
    d.add_argument("--systems", nargs="+", required=True)
    d.add_argument("--labels", required=True, type=Path)
    d.add_argument("--set", default="dev")
    a = ap.parse_args(argv)
    if a.cmd == "report":
        print(report(a.exp_dir, a.command))
    elif a.cmd == "seeds":
        print(seeds_table(a.runs))
    elif a.cmd == "ensemble":
        rows = ensemble(a.systems, a.out, a.labels)
        print(markdown(rows, ["set", "thresholds", "n"] + [k for k in CAT + ["ccc_mean"] if any(k in r for r in rows)]))
    else:
        print(easy_difficult(a.systems, a.labels, a.set))


if __name__ == "__main__":
    main()
