"""Analyses over several MSP-Podcast runs: seeds (mean ± sample std), ensembles
(averaged probabilities and attributes), easy/difficult utterances (CONILIUM §4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import metrics
from ..stage import read_entries
from ..class_scores import distribution
from ..prediction_files import read_head_output, read_predictions as read_rows, write_head_output, write_predictions
from ..labels.votes import krippendorff_alpha
from ..report import markdown, read_csv
from . import CLASSES, SETS
from .scoring import labelled, metrics_rows, read_predictions, write_metrics


def seeds_table(runs: Path) -> str:
    groups: dict = {}
    for m in sorted(runs.glob("*_seed*/train/results/msp_metrics.csv")):
        name = m.parts[-4].rsplit("_seed", 1)[0]
        for r in read_csv(m):
            if r.get("mode", "lone") == "lone":  # each file alone: what a user's ser-predict gives
                groups.setdefault((r["set"], name, r["thresholds"]), []).append(r)
    keys = ["macro_f1", "micro_f1", "uar", "ccc_mean"]
    rows = []
    for (split, name, th), rs in sorted(groups.items(), key=lambda kv: (SETS.index(kv[0][0]), kv[0][1:])):
        row = {"set": split, "system": name, "thresholds": th, "seeds": len(rs)}
        for k in keys:
            vals = [float(r[k]) for r in rs if r.get(k)]
            row[k] = metrics.mean_std(vals)
        rows.append(row)
    return ("Mean ± sample std (n-1) over seeds, lone-file scoring (dev selects the checkpoint and tunes the thresholds; "
            "test sets are unseen)\n\n" + markdown(rows, ["set", "system", "thresholds", "seeds"] + keys) + "\n")


def ensemble(systems: list, out: Path, labels: Path) -> list:
    """Average class outputs and attribute predictions of several trained systems. Systems whose
    heads share an output function are averaged as they are; mixed heads are averaged as
    distributions (``class_scores.distribution``), and the ensemble's outputs are then softmax-like."""
    out.mkdir(parents=True, exist_ok=True)
    kinds = [read_head_output(Path(s) / "train" / "results") for s in systems]
    kind = kinds[0] if len(set(kinds)) == 1 else "softmax"
    write_head_output(out, kind)
    for name in SETS:
        paths = [Path(s) / "train" / "results" / f"predictions_{name}.csv" for s in systems]
        if not all(p.exists() for p in paths):
            continue
        preds = [read_rows(p) for p in paths]
        ids = [r["id"] for r in preds[0][0]]
        for other in preds[1:]:
            if [r["id"] for r in other[0]] != ids:
                raise SystemExit(f"{name}: systems predicted different utterances; cannot ensemble")
        probs = [p[2] if kind == k else distribution(p[2], k) for p, k in zip(preds, kinds) if p[2] is not None]
        avds = [p[3] for p in preds if p[3] is not None]
        write_predictions(out / f"predictions_{name}.csv", read_entries(labels / f"{name}.json"), ids, CLASSES,
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
        refs = labelled(entries, ids)
        correct.append({u: bool(p == r) for u, p, r in zip(ids, probs.argmax(1), refs) if r >= 0})
    common = set.intersection(*(set(c) for c in correct))
    groups = {"easy": [u for u in common if all(c[u] for c in correct)],
              "difficult": [u for u in common if not any(c[u] for c in correct)]}
    spk_count: dict = {}
    for e in entries.values():
        if e["speaker"] is not None:  # an unknown speaker is alone (counts 1)
            spk_count[e["speaker"]] = spk_count.get(e["speaker"], 0) + 1
    rows = []
    for g, us in groups.items():
        d = [entries[u]["duration"] for u in us]
        units = [{v["worker"]: v["primary"] for v in entries[u]["votes"]} for u in us if entries[u].get("votes")]
        rows.append({"group": g, "count": len(us),
                     "duration": metrics.mean_std(d, 2),
                     "alpha": f"{krippendorff_alpha(units):.3f}" if len(units) > 1 else "-",
                     "speaker_freq": f"{np.mean([spk_count.get(entries[u]['speaker'], 1) for u in us]):.1f}" if us else "-",
                     "female": sum(entries[u]["gender"] == "F" for u in us),
                     "male": sum(entries[u]["gender"] == "M" for u in us)})
    return (f"Easy/difficult {name} utterances across {len(systems)} systems ({len(common)} scored)\n\n"
            + markdown(rows, ["group", "count", "duration", "alpha", "speaker_freq", "female", "male"]) + "\n")
