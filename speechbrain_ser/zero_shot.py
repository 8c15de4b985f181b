"""Multilingual16 scoring of stage 4's predictions: in-domain test and zero-shot sets.

Class restriction: a corpus rarely has every class of the unified space (URDU
has 4). Its class inventory is what its labels can be scored as, from the
mapping and the recipe's ``score_as`` (stage 2's ``summary.json``), not from the
classes that happen to occur in a small evaluation set. Predictions are
restricted to the inventory (the other classes' scores are masked before the
argmax, ``metrics.restrict``); F1 averages over the inventory, UAR over the
classes present in the references (``metrics.DEFINITIONS``). Chance level =
1 / #inventory. A group of corpora (a language, "all") uses the union of their
inventories.

Utterances with a soft target but no hard label (EmoDB boredom, MSP-Podcast
contempt under the unified mapping) are predicted but not in the hard-label
metrics; ``soft_scores.csv`` gives, per corpus and native label, the mean
probability mass the model puts on the classes of that label's mapping row
(the head's outputs as a distribution, ``class_scores.distribution``, renormalised over
the inventory), beside the mass a uniform
guess over the inventory would put there.

Writes ``zero_shot.csv`` (one row per set × corpus, set × language and set),
``soft_scores.csv`` and ``inventory.json`` (corpus → classes, for the report).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import metrics
from .data import read_entries
from .stage import write_csv_atomic, write_json_atomic

METRICS = ["micro_f1", "macro_f1", "uar", "weighted_f1", "accuracy"]


def eval_sets(labels: Path) -> list:
    """The in-domain test set and one zero-shot set per held-out corpus."""
    sets = ["test"] + [p.stem for p in sorted(labels.glob("zeroshot_*.json"))]
    return [n for n in sets if (labels / f"{n}.json").exists()]


def inventories(labels: Path, classes: list) -> dict:
    """corpus -> class indices it can be scored as (stage 2's summary)."""
    summary = read_entries(labels / "summary.json")
    return {c: [classes.index(x) for x in v["inventory"]] for c, v in summary["corpora"].items()}


def score_groups(entries: dict, ids, probs, classes, inventory: dict) -> list:
    """Rows of metrics per corpus, per language and overall, with class restriction."""
    rows = []
    idx = {i: k for k, i in enumerate(ids)}
    groups = {}
    for uid in ids:
        e = entries[uid]
        if e.get("hard") is None:
            continue
        groups.setdefault(("corpus", e["corpus"]), []).append(uid)
        groups.setdefault(("language", e["language"]), []).append(uid)
        groups.setdefault(("all", "all"), []).append(uid)
    for (level, name), uids in sorted(groups.items()):
        refs = np.array([classes.index(entries[u]["hard"]) for u in uids])
        allowed = sorted(set().union(*(inventory[c] for c in {entries[u]["corpus"] for u in uids})))
        preds = metrics.restrict(probs[[idx[u] for u in uids]], allowed)
        m = metrics.classification(refs, preds, allowed)
        rows.append(dict(level=level, name=name, n_classes=len(allowed),
                         classes=" ".join(classes[c] for c in allowed),
                         chance=round(1 / len(allowed), 4), **{k: round(m[k], 4) for k in METRICS}, n=m["n"]))
    return rows


def soft_scores(entries: dict, ids, probs, classes, inventory: dict) -> list:
    """Per corpus and native label without a hard label: mean probability mass on its mapping's classes."""
    groups = {}
    for i, uid in enumerate(ids):
        e = entries[uid]
        if e.get("hard") is None and e.get("native_classes"):
            groups.setdefault((e["corpus"], e["native"], tuple(e["native_classes"])), []).append(i)
    rows = []
    for (corpus, native, cls), rows_i in sorted(groups.items()):
        inv = inventory[corpus]
        p = probs[rows_i][:, inv]
        total = p.sum(1, keepdims=True)
        p = np.where(total > 0, p / np.where(total > 0, total, 1), 1 / len(inv))
        on = [inv.index(classes.index(c)) for c in cls if classes.index(c) in inv]
        rows.append(dict(corpus=corpus, native=native, n=len(rows_i), classes=" ".join(cls),
                         mean_mass=round(float(p[:, on].sum(1).mean()), 4),
                         uniform_mass=round(len(on) / len(inv), 4)))
    return rows


def score(results: Path, labels: Path, predictions: dict):
    """``predictions``: {set: (ids, probs, attributes)} from stage 4's predict step."""
    from .class_scores import distribution
    from .evaluate import read_head_output

    classes = read_entries(labels / "summary.json")["space"]
    inventory = inventories(labels, classes)
    head_output = read_head_output(results)
    all_rows, soft_rows = [], []
    for name, (ids, probs, _) in predictions.items():
        entries = read_entries(labels / f"{name}.json")
        all_rows += [{"set": name, **r} for r in score_groups(entries, ids, probs, classes, inventory)]
        soft_rows += [{"set": name, **r} for r in soft_scores(entries, ids, distribution(probs, head_output),
                                                              classes, inventory)]
    write_json_atomic(results / "inventory.json", {c: [classes[i] for i in v] for c, v in inventory.items()})
    write_csv_atomic(results / "soft_scores.csv", ["set", "corpus", "native", "n", "classes", "mean_mass",
                                                   "uniform_mass"], soft_rows)
    write_csv_atomic(results / "zero_shot.csv", ["set", "level", "name", "n", "n_classes", "classes", "chance"]
                     + METRICS, all_rows)
    return results / "zero_shot.csv"
