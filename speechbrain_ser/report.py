"""Stage 5: tables, plots and the experiment's self-description.

    python -m speechbrain_ser.report zero-shot --exp-dir E [--command "..."]
    python -m speechbrain_ser.report ablation --runs DIR [--out FILE]

``zero-shot`` reads ``E/train/results/zero_shot.csv`` and the prediction files,
prints a Markdown table, and writes ``E/report/``: ``report.md``,
``zero_shot_bars.png`` (micro/macro-F1 per held-out corpus, majority-class accuracy marked),
``confusion_<corpus>.png`` per held-out corpus, ``env.json`` (versions, git
revision, machine) and ``command.sh`` (the exact command to rerun).
``ablation`` aggregates runs named ``<variant>_seed<k>`` into mean ± std.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from . import metrics
from .stage import Stage, fingerprint, read_csv, save_figure_atomic, write_json_atomic, write_text_atomic

SHOW = ["micro_f1", "macro_f1", "uar", "weighted_f1"]


def markdown(rows: list, cols: list) -> str:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join(str(r[c]) for c in cols) + " |")
    return "\n".join(out)


def mode_note(rows: list) -> str:
    """One sentence per scoring mode present in ``rows`` (``prediction_files.MODES``), lone first."""
    from .prediction_files import MODES

    present = [m for m in MODES if any(r.get("mode", "lone") == m for r in rows)]
    if present == ["lone"]:
        return f"Scoring mode: lone ({MODES['lone']}).\n\n"
    return ("Scoring modes (the `mode` column): " + "; ".join(f"**{m}**: {MODES[m]}" for m in present)
            + ". Lone rows are what a user's single file gets; speaker rows use the other test files of "
              "the same speaker, so they stand beside the lone rows, never instead of them.\n\n")


def by_mode(rows: list, mode: str | None = None) -> list:
    """``rows`` of one scoring mode (files written before modes existed are lone), or every row lone first."""
    from .prediction_files import MODES

    if mode is not None:
        return [r for r in rows if r.get("mode", "lone") == mode]
    return sorted(rows, key=lambda r: list(MODES).index(r.get("mode", "lone")))


def zero_shot_table(rows: list) -> tuple[list, list]:
    rows = by_mode(rows)
    z = [r for r in rows if r["set"].startswith("zeroshot_") and r["level"] == "corpus"]
    d = [r for r in rows if r["set"] == "test" and r["level"] in ("corpus", "all")]
    return z, d


def plot_bars(z: list, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in z]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 3.6))
    ax.bar(x - 0.2, [float(r["micro_f1"]) for r in z], 0.4, label="micro-F1")
    ax.bar(x + 0.2, [float(r["macro_f1"]) for r in z], 0.4, label="macro-F1")
    for i, r in enumerate(z):
        ax.hlines(float(r["majority_accuracy"]), i - 0.45, i + 0.45, colors="k", linestyles="--",
                  label="majority-class accuracy" if i == 0 else None)
    ax.set_xticks(x, [f"{r['name']}\n({r['classes'].count(' ') + 1} cl.)" for r in z])
    ax.set_ylim(0, 1)
    ax.set_ylabel("score")
    ax.set_title("Zero-shot scores on held-out corpora")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # beside the bars, never over them
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)


def restricted_predictions(rows: list, inventory: dict):
    """(classes, refs, preds, allowed) of the rows with a hard reference, each prediction
    restricted to its corpus's inventory (``inventory.json``, written by the zero-shot scoring)."""
    classes = [k[2:] for k in rows[0] if k.startswith("p_")]
    rows = [r for r in rows if r["ref"]]
    refs = np.array([classes.index(r["ref"]) for r in rows], dtype=int)
    allowed_of = {c: [classes.index(x) for x in v] for c, v in inventory.items()}
    preds = np.array([metrics.restrict(np.array([[float(r[f"p_{c}"]) for c in classes]]),
                                       allowed_of[r["corpus"]])[0] for r in rows], dtype=int)
    allowed = sorted({i for r in rows for i in allowed_of[r["corpus"]]})
    return classes, refs, preds, allowed


def plot_confusion(pred_csv: Path, path: Path, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    inventory = json.loads((pred_csv.parent / "inventory.json").read_text())
    classes, refs, preds, allowed = restricted_predictions(read_csv(pred_csv), inventory)
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    ConfusionMatrixDisplay.from_predictions(refs, preds, labels=allowed,
                                            display_labels=[classes[i] for i in allowed],
                                            normalize="true", values_format=".2f", ax=ax, colorbar=False)
    ax.set_title(title)
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)


def environment() -> dict:
    import speechbrain
    import torch
    import transformers

    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        rev = ""
    return dict(python=sys.version.split()[0], torch=torch.__version__, speechbrain=speechbrain.__version__,
                transformers=transformers.__version__, numpy=np.__version__, platform=platform.platform(),
                cpu_threads=torch.get_num_threads(), cuda=torch.cuda.is_available(), git_revision=rev)


def write_self_description(out: Path, md: str, command: str | None):
    """report.md, env.json and command.sh (the exact command to rerun) in ``out``."""
    write_text_atomic(out / "report.md", md)
    write_json_atomic(out / "env.json", environment())
    if command:
        write_text_atomic(out / "command.sh", "#!/usr/bin/env bash\n# rerun this experiment\n" + command + "\n")


def report_stage(exp_dir: Path, make) -> str:
    """Stage 5 with a marker: ``make(results, out)`` writes the report; rerunning with the same
    stage-4 results does nothing and prints the existing report."""
    results, out = exp_dir / "train" / "results", exp_dir / "report"
    with Stage(out, {"results": fingerprint(results)}, "stage 5 report") as st:
        if st.done:
            print(f"stage 5: {out} is up to date (same stage-4 results); nothing to do")
            return (out / "report.md").read_text()
        md = make(results, out)
        add_results_to_model_card(exp_dir / "model", md)
        return md


def calibration_section(results: Path, out: Path) -> str:
    """Stage 4's calibration table (before/after temperature) and its reliability diagram."""
    path = results / "calibration.csv"
    if not path.exists():
        return ""
    from .calibration import DEFINITIONS

    rows = by_mode(read_csv(path))
    cols = ["mode", "set", "n", "temperature"] + [c for c in rows[0] if c.endswith(("_before", "_after"))
                                                  and any(r[c] for r in rows)] + ["n_jsd"]
    if (results / "reliability.png").exists():
        shutil.copyfile(results / "reliability.png", out / "reliability.png")
    t = rows[0]["temperature"]
    how = (f"One temperature T = {t}, fitted on the development set's lone predictions (each file alone) by "
           "minimising NLL (so lone dev is in-sample), stored in the exported model and applied by default in "
           "every mode; it never changes the argmax."
           if t != "n/a" else "The head is sigmoid (BCE-trained): its one-vs-rest scores are measured after "
           "normalising them to sum 1; no temperature is fitted.")
    return ("\n## Calibration\n\n" + how + " Probabilities over the whole label space, before class "
            "restriction. Reliability diagram: `reliability.png`.\n\n" + markdown(rows, cols) + "\n\n"
            + "\n".join(f"- {k}: {v}" for k, v in DEFINITIONS.items()) + "\n")


def shift_section(results: Path, out: Path) -> str:
    """Stage 4's emotion-shift evaluation (``shift/shift_scores.csv``) and its timeline figure."""
    results = results / "shift"
    path = results / "shift_scores.csv"
    if not path.exists():
        return ""
    from .timeline import DEFINITIONS

    rows = read_csv(path)
    cfg = json.loads((results / "shift_settings.json").read_text())
    if (results / "shift_timeline.png").exists():
        shutil.copyfile(results / "shift_timeline.png", out / "shift_timeline.png")
    cols = ["set", "corpus", "language", "files", "seconds", "frame_accuracy", "segment_precision",
            "segment_recall", "segment_f1", "order_correct", "chance_frame_accuracy", "single_label_frame_accuracy"]
    lo, hi = cfg["seconds"]
    return ("\n## Emotion over time (emotion-shift files)\n\n"
            f"Each file: one speaker's utterances of {cfg['n_emotions']} different emotions in a random order, "
            f"{lo:g}-{hi:g} s per emotion ({cfg['per_corpus']} files per corpus, from the evaluation sets' "
            f"labelled utterances). The exported model's `predict_timeline`: {cfg['window']:g} s windows every "
            f"{cfg['hop']:g} s, segments shorter than {cfg['min_segment']:g} s merged, emotions restricted "
            "to the corpus's classes where the task restricts them. Boundary tolerance for segment F1: "
            f"{cfg['tolerance']:g} s (one hop) on both the start and the end. Chance levels: "
            "chance_frame_accuracy = a uniformly random class per frame (1 / #classes, time-weighted); "
            "single_label_frame_accuracy = the best single label per file (the largest share of a file one "
            "reference emotion has), an upper bound for any system giving one label per file, whose segment "
            f"F1 is 0 here (every file has {cfg['n_emotions']} segments of {lo:g} s or more). "
            "Figure: `shift_timeline.png`.\n\n"
            + markdown(rows, cols) + "\n\n" + "\n".join(f"- {k}: {v}" for k, v in DEFINITIONS.items()) + "\n")


RESULTS_HEADING = "## Results (stage 5 of the recipe, through this exported model)"


def add_results_to_model_card(model_dir: Path, md: str):
    """Stage 5's tables become the model card's results section (replacing an older one)."""
    card = model_dir / "README.md"
    if not card.exists():
        return
    text = card.read_text().split(RESULTS_HEADING)[0].rstrip() + "\n\n"
    body = md.replace("\n## ", "\n### ").lstrip()
    body = "#" + body if body.startswith("## ") else body
    write_text_atomic(card, text + RESULTS_HEADING + "\n\n" + body)


def zero_shot_report(exp_dir: Path, command: str | None) -> str:
    return report_stage(exp_dir, lambda results, out: _zero_shot_report(results, out, command))


def _zero_shot_report(results: Path, out: Path, command: str | None) -> str:
    rows = read_csv(results / "zero_shot.csv")
    for r in rows:
        if "uar_ci_low" in r:  # empty: fewer speakers than metrics.MIN_CLUSTERS (ci_unit says how many)
            r["uar_95ci"] = f"[{float(r['uar_ci_low']):.3f}, {float(r['uar_ci_high']):.3f}]" \
                if r["uar_ci_low"] != "" else "none"
    z, d = zero_shot_table(rows)
    cols = ["mode", "name", "n", "n_classes", "chance_uar"] + SHOW[:3] + (["uar_95ci", "ci_unit"] if "uar_95ci" in
                                                                        (rows[0] if rows else {}) else []) \
        + SHOW[3:] + ["majority_accuracy", "majority_uar"]
    lang = [r for r in by_mode(rows) if r["set"].startswith("zeroshot_") and r["level"] == "language"]
    text = ["## Zero-shot (held-out corpora, languages unseen in training)", "", mode_note(rows).rstrip(), "",
            markdown(z, cols), "", "Per language:", "", markdown(lang, cols), "",
            "## In-domain test", "", markdown(d, cols + ["speaker_dependent"]), "",
            "speaker_dependent = yes: the corpus's test speakers also speak in its training data (TESS's two "
            "speakers, ESD's official split); those rows are not speaker-independent results. uar_95ci: 95 % "
            "bootstrap interval of UAR resampling the unit ci_unit names (speakers, all utterances of each "
            "drawn speaker kept; utterances only where the set has no speaker ids); none below "
            f"{metrics.MIN_CLUSTERS} speakers.", ""]
    for mode in dict.fromkeys(r.get("mode", "lone") for r in z):
        zm = by_mode(z, mode)
        mean = {k: np.mean([float(r[k]) for r in zm]) for k in SHOW + ["chance_uar", "majority_accuracy"]}
        text.append(f"Zero-shot mean over corpora ({mode}): " + ", ".join(f"{k} {v:.3f}" for k, v in mean.items()))
    if z:
        plot_bars(by_mode(z, "lone"), out / "zero_shot_bars.png")
    balanced = results / "zero_shot_balanced.csv"
    if balanced.exists():
        bz, bd = zero_shot_table(read_csv(balanced))
        text += ["", "### With decisions balanced per corpus (transductive)", "",
                 "Each corpus's per-class offsets make the model's mean predicted distribution over that "
                 "corpus's evaluation utterances uniform (no labels used; `class_scores.balance_offsets`). "
                 "A decision then depends on the other utterances of the set, so these rows stand beside "
                 "the plain ones above, never instead of them.", "",
                 markdown(bz + bd, ["mode", "set", "name", "n", "n_classes", "chance_uar"] + SHOW)]
    soft = read_csv(results / "soft_scores.csv") if (results / "soft_scores.csv").exists() else []
    summary_path = results.parent.parent / "data" / "labels" / "summary.json"
    if summary_path.exists():
        from .prepare import unscored_warnings

        warn = unscored_warnings(json.loads(summary_path.read_text()))
        if warn:
            text += ["", "## Not scored: labels without a hard label", ""] + [f"- **{w}**" for w in warn]
    if soft:
        text += ["", "## Labels without a hard label (soft score)", "",
                 "Native labels whose mapping row is not one-hot and that `score_as` does not assign "
                 "(e.g. boredom -> neutral 0.5 + sadness 0.5) are not in the hard-label metrics. "
                 "mean_mass: mean probability (renormalised over the corpus's classes) on the classes "
                 "of the label's mapping row; uniform_mass: the same for a uniform guess.", "",
                 markdown(by_mode(soft), ["mode", "set", "corpus", "native", "n", "classes", "mean_mass",
                                          "uniform_mass"])]
    text += ["", "## Metric definitions", "",
             "Predictions are restricted to each corpus's class inventory (from the label mapping, "
             "not from the references); chance_uar = 1 / #classes of that inventory (chance for UAR only); "
             "majority_* = the majority-class baseline.", ""]
    text += [f"- {k}: {v}" for k, v in metrics.DEFINITIONS.items()]
    text.append(calibration_section(results, out))
    text.append(shift_section(results, out))
    for r in by_mode(z, "lone"):
        plot_confusion(results / f"predictions_{r['set']}.csv", out / f"confusion_{r['name']}.png",
                       f"{r['name']} (zero-shot, lone files)")
    md = "\n".join(text) + "\n"
    write_self_description(out, md, command)
    return md


def neutral_shares(results: Path) -> dict:
    """Share of zero-shot predictions (restricted as in scoring) and of references that are
    neutral, over every ``predictions_zeroshot_*.csv``: shows a model drifting to neutral."""
    pred = ref = n = 0
    for f in sorted(results.glob("predictions_zeroshot_*.csv")):
        inventory = json.loads((f.parent / "inventory.json").read_text())
        classes, refs, preds, _ = restricted_predictions(read_csv(f), inventory)
        if "neutral" not in classes:
            continue
        pred += int((preds == classes.index("neutral")).sum())
        ref += int((refs == classes.index("neutral")).sum())
        n += len(refs)
    return {"zs_pred_neutral": pred / n, "zs_ref_neutral": ref / n} if n else {}


def ablation_report(runs: Path, out: Path | None) -> str:
    """Runs ``<variant>_seed<k>/train/results/zero_shot.csv`` → mean ± std per variant."""
    table: dict = {}
    for res in sorted(runs.glob("*_seed*/train/results/zero_shot.csv")):
        variant = res.parts[-4].rsplit("_seed", 1)[0]
        rows = by_mode(read_csv(res), "lone")  # each file alone: what a user's ser-predict gives
        z = [r for r in rows if r["set"].startswith("zeroshot_") and r["level"] == "corpus"]
        d = [r for r in rows if r["set"] == "test" and r["level"] == "all"]
        rec = {f"zs_{k}": np.mean([float(r[k]) for r in z]) for k in ("micro_f1", "macro_f1")}
        rec.update({f"id_{k}": float(d[0][k]) for k in ("micro_f1", "macro_f1")} if d else {})
        rec.update(neutral_shares(res.parent))
        table.setdefault(variant, []).append(rec)
    keys = ["zs_micro_f1", "zs_macro_f1", "id_micro_f1", "id_macro_f1", "zs_pred_neutral", "zs_ref_neutral"]
    rows = []
    for v, recs in table.items():
        row = {"variant": v, "seeds": len(recs)}
        for k in keys:
            vals = [r[k] for r in recs if k in r]
            row[k] = metrics.mean_std(vals)
        rows.append(row)
    md = ("Zero-shot (zs_: mean over held-out corpora) and in-domain test (id_) scores of lone files, "
          "mean ± sample std (n-1) over seeds; zs_pred_neutral / zs_ref_neutral: share of zero-shot "
          "predictions / references that are neutral\n\n" + markdown(rows, ["variant", "seeds"] + keys) + "\n")
    if out:
        write_text_atomic(out, md)
    return md


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.report")
    sub = ap.add_subparsers(dest="cmd", required=True)
    z = sub.add_parser("zero-shot")
    z.add_argument("--exp-dir", required=True, type=Path)
    z.add_argument("--command", default=None)
    a = sub.add_parser("ablation")
    a.add_argument("--runs", required=True, type=Path)
    a.add_argument("--out", default=None, type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "zero-shot":
        print(zero_shot_report(args.exp_dir, args.command))
    else:
        print(ablation_report(args.runs, args.out))


if __name__ == "__main__":
    main()
