"""Multilingual16 scoring of stage 4's predictions: in-domain test and zero-shot sets.

Class restriction: a corpus rarely has every class of the unified space (URDU
has 4). Its class inventory is what its labels can be scored as, from the
mapping and the recipe's ``score_as`` (stage 2's ``summary.json``), not from the
classes that happen to occur in a small evaluation set. Predictions are
restricted to the inventory (the other classes' scores are masked before the
argmax, ``metrics.restrict``); macro-F1 and UAR average over the classes present
in the references (``metrics.DEFINITIONS``). Chance for UAR = 1 / #inventory
(``chance_uar``); the majority-class baseline (accuracy, macro-F1, UAR) stands
beside it. ``speaker_dependent`` marks a corpus whose test speakers also speak in
its training data (TESS, ESD's official split): its in-domain numbers are not
speaker-independent. A group of corpora (a language, "all") uses the union of their
inventories.

Utterances with a soft target but no hard label (EmoDB boredom, MSP-Podcast
contempt under the unified mapping) are predicted but not in the hard-label
metrics; ``soft_scores.csv`` gives, per corpus and native label, the mean
probability mass the model puts on the classes of that label's mapping row
(the head's outputs as a distribution, ``class_scores.distribution``, renormalised over
the inventory), beside the mass a uniform
guess over the inventory would put there.

A corpus with a standard protocol of its own (IEMOCAP's 4 classes: neutral,
happiness + excitement, sadness, anger) also gets a ``protocol`` row: references
from its native labels through the protocol's table, predictions restricted to
the protocol's classes, so the number compares with published ones.

``zero_shot_balanced.csv`` repeats the rows with each corpus's decisions balanced on
its own unlabelled utterances (``class_scores.balance_offsets``: the mean predicted
distribution over the set made uniform); transductive, so beside the plain rows, never
instead of them.

Every row has a ``mode`` (``prediction_files.MODES``): ``lone`` (each file alone, what
``ser-predict FILE`` gives) and, for a speaker-normalised model, ``speaker`` (each file
normalised with its speaker's files in the set: transductive). UAR's 95 % interval
resamples speakers (``metrics.bootstrap_interval``; ``ci_unit`` says the unit and how
many: utterances only where a set has no speaker ids; no interval, empty fields, from fewer than
``metrics.MIN_CLUSTERS`` speakers).

Writes ``zero_shot.csv`` (one row per mode × set × corpus, set × language and set),
``soft_scores.csv`` and ``inventory.json`` (corpus → classes, for the report).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import metrics
from .class_scores import balance_offsets, distribution, restricted_log_probs
from .prediction_files import read_head_output
from .stage import read_entries, write_csv_atomic, write_json_atomic

METRICS = ["micro_f1", "macro_f1", "uar", "weighted_f1", "accuracy"]
BASELINE = ["majority_accuracy", "majority_macro_f1", "majority_uar"]
CI = ["uar_ci_low", "uar_ci_high", "ci_unit"]  # 95 % interval of UAR resampling speakers (metrics.bootstrap_interval)


def eval_sets(labels: Path) -> list:
    """The in-domain test set and one zero-shot set per held-out corpus."""
    sets = ["test"] + [p.stem for p in sorted(labels.glob("zeroshot_*.json"))]
    return [n for n in sets if (labels / f"{n}.json").exists()]


def inventories(labels: Path, classes: list) -> dict:
    """corpus -> class indices it can be scored as (stage 2's summary)."""
    summary = read_entries(labels / "summary.json")
    return {c: [classes.index(x) for x in v["inventory"]] for c, v in summary["corpora"].items()}


def protocol_tables(corpus: str, classes: list) -> dict:
    """A corpus reader's standard scoring protocols (``SCORING_PROTOCOLS``: name -> native label ->
    class), those whose classes are all in this label space."""
    from . import corpora

    if corpus not in corpora.NAMES:
        return {}
    tables = getattr(corpora.get(corpus), "SCORING_PROTOCOLS", {})
    return {n: t for n, t in tables.items() if set(t.values()) <= set(classes)}


def balanced_scores(entries: dict, ids, dist: np.ndarray, inventory: dict) -> np.ndarray:
    """Decision scores after ``class_scores.balance_offsets`` fitted per corpus on all its utterances
    of the set (no labels used), over the corpus's inventory (-inf elsewhere)."""
    out = np.full(dist.shape, -np.inf)
    by_corpus: dict = {}
    for i, u in enumerate(ids):
        by_corpus.setdefault(entries[u]["corpus"], []).append(i)
    for corpus, rows in by_corpus.items():
        inv = inventory[corpus]
        logp = restricted_log_probs(dist[rows], inv)
        out[np.ix_(rows, inv)] = logp + balance_offsets(logp)
    return out


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
    protocols = {}  # a corpus's standard protocol (IEMOCAP 4-class): uid -> reference class index
    for corpus in sorted({entries[u]["corpus"] for u in ids}):
        for pname, table in protocol_tables(corpus, classes).items():
            protocols[pname] = {u: classes.index(table[entries[u]["native"]]) for u in ids
                                if entries[u]["corpus"] == corpus and entries[u]["native"] in table}
    for pname, refs_of in protocols.items():
        if refs_of:
            groups[("protocol", pname)] = list(refs_of)
    for (level, name), uids in sorted(groups.items()):
        if level == "protocol":
            refs = np.array([protocols[name][u] for u in uids])
            allowed = sorted(set(protocols[name].values()))
        else:
            refs = np.array([classes.index(entries[u]["hard"]) for u in uids])
            allowed = sorted(set().union(*(inventory[c] for c in {entries[u]["corpus"] for u in uids})))
        preds = metrics.restrict(probs[[idx[u] for u in uids]], allowed)
        m = metrics.classification(refs, preds, allowed)
        base = metrics.majority_baseline(refs, allowed)
        speakers = [entries[u].get("speaker") for u in uids]
        lo, hi, unit = metrics.bootstrap_interval(refs, preds, allowed, speakers
                                                  if any(x is not None for x in speakers) else None)
        n_units = len({x if x is not None else u for x, u in zip(speakers, uids)}) if unit == "speaker" else len(uids)
        computed = bool(np.isfinite(lo))  # no interval from fewer than metrics.MIN_CLUSTERS speakers
        rows.append(dict(level=level, name=name, n_classes=len(allowed),
                         classes=" ".join(classes[c] for c in allowed),
                         chance_uar=round(1 / len(allowed), 4), **{k: round(m[k], 4) for k in METRICS},
                         uar_ci_low=round(lo, 4) if computed else "", uar_ci_high=round(hi, 4) if computed else "",
                         ci_unit=f"{unit} ({n_units})" if computed else f"{unit} ({n_units}): too few for an interval",
                         majority_accuracy=round(base["accuracy"], 4), majority_macro_f1=round(base["macro_f1"], 4),
                         majority_uar=round(base["uar"], 4), n=m["n"]))
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
    """``predictions``: {mode: {set: (ids, probs, attributes)}} from stage 4's predict step (modes:
    ``prediction_files.MODES``); every row carries its ``mode``, lone rows first."""
    summary = read_entries(labels / "summary.json")
    classes = summary["space"]
    inventory = inventories(labels, classes)
    head_output = read_head_output(results)
    all_rows, soft_rows, balanced_rows = [], [], []
    for mode, sets in predictions.items():
        for name, (ids, probs, _) in sets.items():
            entries = read_entries(labels / f"{name}.json")
            for r in score_groups(entries, ids, probs, classes, inventory):
                seen = summary["corpora"].get(r["name"], {}).get("test_speakers_in_train") \
                    if name == "test" and r["level"] == "corpus" else None
                all_rows.append({"mode": mode, "set": name, **r, "speaker_dependent": "" if seen is None else
                                 ("yes" if seen > 0 else "no")})
            dist = distribution(probs, head_output)
            soft_rows += [{"mode": mode, "set": name, **r} for r in soft_scores(entries, ids, dist, classes, inventory)]
            balanced_rows += [{"mode": mode, "set": name, **r} for r in score_groups(
                entries, ids, balanced_scores(entries, ids, dist, inventory), classes, inventory)]
    write_json_atomic(results / "inventory.json", {c: [classes[i] for i in v] for c, v in inventory.items()})
    fields = ["mode", "set", "level", "name", "n", "n_classes", "classes", "chance_uar"] + METRICS + CI + BASELINE
    write_csv_atomic(results / "zero_shot_balanced.csv", fields, balanced_rows)
    write_csv_atomic(results / "soft_scores.csv", ["mode", "set", "corpus", "native", "n", "classes", "mean_mass",
                                                   "uniform_mass"], soft_rows)
    write_csv_atomic(results / "zero_shot.csv", fields + ["speaker_dependent"], all_rows)
    return results / "zero_shot.csv"
