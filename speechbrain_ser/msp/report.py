"""Stage 5 of the MSP-Podcast recipe: the metrics table, the Development summary and
its confusion matrix, from stage 4's results."""
from __future__ import annotations

from pathlib import Path

from ..report import calibration_section, markdown, mode_note, read_csv, report_stage, shift_section, write_self_description
from ..stage import save_figure_atomic
from . import CAT, CLASSES
from .scoring import read_predictions


def report(exp_dir: Path, command: str | None) -> str:
    return report_stage(exp_dir, lambda results, out: _report(results, out, command))


def _report(results: Path, out: Path, command: str | None) -> str:
    rows = read_csv(results / "msp_metrics.csv")
    cols = ["mode", "set", "thresholds", "n"] + [c for c in CAT + ["ccc_a", "ccc_v", "ccc_d", "ccc_mean"]
                                                 if any(r.get(c) for r in rows)]
    md = "## MSP-Podcast\n\n" + mode_note(rows) + markdown(rows, cols) + "\n"
    dev = [r for r in rows if r["set"] == "dev" and r.get("mode", "lone") == "lone"]
    if dev:
        by = {r["thresholds"]: r for r in dev}
        f1 = {k: by[k]["macro_f1"] for k in ("argmax", "tuned on dev") if k in by and by[k].get("macro_f1")}
        ccc = next((r["ccc_mean"] for r in dev if r.get("ccc_mean")), "-")
        md += ("\nDevelopment (lone): macro-F1 " + ", ".join(f"{v} ({k})" for k, v in f1.items())
               + f"; mean CCC {ccc}. Thresholds tuned on Development make its tuned score in-sample; "
                 "the test sets use the same thresholds unchanged.\n")
    md += calibration_section(results, out)
    md += shift_section(results, out)
    pred = results / "predictions_dev.csv"
    if pred.exists() and read_predictions(pred)[1] is not None:
        _confusion(pred, out / "confusion_dev.png")
    write_self_description(out, md, command)
    return md


def _confusion(pred_csv: Path, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    _, probs, _ = read_predictions(pred_csv)
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
