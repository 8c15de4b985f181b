"""Stage 2: derive targets, hard labels, agreement and splits; stored in the manifest.

Two policies, one per recipe:

* ``unified`` (Multilingual16): native label → soft mapping → neutral smoothing.
  Where annotator votes exist (IEMOCAP, MSP-Podcast) and ``use_votes`` is on, the
  target is the mapping applied to the primary-vote distribution P instead of
  to the single consensus label. Held-out corpora become ``zeroshot`` sets.
* ``msp`` (MSP-Podcast): majority, P, S, P*, S*, agreement, A/V/D scaled to
  [0, 1], gender; Krippendorff's alpha per split in the summary.

Corpora without an official partition are split by speaker (speaker-disjoint
dev and test) when they have at least 3 speakers, else by utterance; both
deterministic given the seed.
"""
from __future__ import annotations

import hashlib

import numpy as np

from . import votes as V
from .harmonise import DEFAULT_MAPPING, hard_label, load_mapping, load_space

MSP_SPLITS = {"train": "train", "dev": "dev", "test1": "test", "test2": "test", "test3": "test"}


def _h(*keys) -> float:
    """Stable pseudo-random number in [0, 1) from keys."""
    d = hashlib.sha1("/".join(map(str, keys)).encode()).hexdigest()
    return int(d[:8], 16) / 2 ** 32


def assign_splits(entries: dict, dev: float, test: float, seed: int) -> str:
    """Fill ``split`` where the corpus has none; return how ("official", "speaker", "utterance")."""
    if all(e["split"] for e in entries.values()):
        return "official"
    speakers = sorted({e["speaker"] for e in entries.values()}, key=lambda s: _h(seed, s))
    if len(speakers) >= 3:
        n_test = max(1, round(test * len(speakers)))
        n_dev = max(1, round(dev * len(speakers)))
        role = {s: "test" for s in speakers[:n_test]}
        role.update({s: "dev" for s in speakers[n_test:n_test + n_dev]})
        for e in entries.values():
            e["split"] = e["split"] or role.get(e["speaker"], "train")
        return "speaker"
    for uid, e in entries.items():
        r = _h(seed, uid)
        e["split"] = e["split"] or ("test" if r < test else "dev" if r < test + dev else "train")
    return "utterance"


def vote_summary(votes: list, classes: list) -> dict:
    prim = [v["primary"] for v in votes]
    P = V.primary_distribution(prim, classes)
    S = V.secondary_distribution([v["secondary"] for v in votes], classes)
    return dict(majority=V.majority(prim), P=P, S=S, P_star=V.high_agreement_p(prim),
                S_star=V.high_agreement_s(S), agreement=round(V.primary_agreement(prim), 4),
                entropy=round(V.normalised_entropy(P), 4), n_annotators=len(votes))


def unified_targets(manifests: dict, cfg: dict) -> tuple[dict, dict]:
    """{corpus: manifest} → ({corpus: labelled manifest}, summary)."""
    mapping = load_mapping(cfg.get("mapping") or DEFAULT_MAPPING, overrides={"default_epsilon": cfg.get("default_epsilon", 0.1),
                   "corpora": cfg.get("epsilon_overrides") or {}})
    classes = mapping.space.classes
    held_out = set(cfg.get("held_out") or [])
    out, summary = {}, {"space": classes, "corpora": {}}
    for corpus, entries in manifests.items():
        entries = {k: dict(v) for k, v in entries.items()}
        how = "zeroshot" if corpus in held_out else assign_splits(
            entries, cfg.get("dev_fraction", 0.15), cfg.get("test_fraction", 0.2), cfg.get("seed", 0))
        for uid, e in entries.items():
            native_t = raw = mapping.target(corpus, e["native"])
            source = "label"
            if e.get("votes") and cfg.get("use_votes", True):
                nat = [v["primary"] for v in e["votes"]]
                mixed = sum((mapping.target(corpus, c) for c in nat
                             if mapping.target(corpus, c) is not None), np.zeros(len(classes)))
                if mixed.sum() > 0:
                    raw, source = mixed / mixed.sum(), "votes"
            if corpus in held_out:
                e["split"] = "zeroshot"
            else:
                e["split"] = MSP_SPLITS.get(e["split"], e["split"])
            if raw is None:
                e.update(target=None, hard=None, epsilon=None, target_source=None)
                continue
            eps = mapping.epsilon(corpus, e.get("intensity")) if cfg.get("neutral_smoothing", True) else 0.0
            target = mapping.smooth(raw, eps)
            e.update(target=[round(float(x), 6) for x in target],
                     target_raw=[round(float(x), 6) for x in raw],
                     hard=hard_label(native_t if native_t is not None else raw, classes),
                     epsilon=eps, target_source=source)
        out[corpus] = entries
        summary["corpora"][corpus] = dict(split_by=how, counts=_counts(entries),
                                          excluded=sum(e["target"] is None for e in entries.values()))
    return out, summary


def msp_targets(entries: dict, cfg: dict) -> tuple[dict, dict]:
    space = load_space(cfg.get("space", "msp_podcast"))
    classes = space.classes
    entries = {k: dict(v) for k, v in entries.items()}
    alpha_units: dict = {}
    for uid, e in entries.items():
        hard = e["native"] if e["native"] in classes else None
        e.update(hard=hard, ox=e["native"] if hard is None else None)
        if e.get("votes"):
            s = vote_summary(e["votes"], classes)
            e.update(P=[round(float(x), 6) for x in s["P"]], S=[round(float(x), 6) for x in s["S"]],
                     P_star=s["P_star"], S_star=s["S_star"], agreement=s["agreement"],
                     entropy=s["entropy"], n_annotators=s["n_annotators"], vote_majority=s["majority"])
            alpha_units.setdefault(e["split"], []).append({v["worker"]: v["primary"] for v in e["votes"]})
        else:
            onehot = space.onehot(hard).tolist() if hard else None
            e.update(P=onehot, S=onehot, P_star=None, S_star=None, agreement=None)
        if e.get("avd"):
            e["avd01"] = [round((float(x) - 1.0) / 6.0, 6) for x in e["avd"]]
    summary = {"space": classes, "counts": _counts(entries),
               "krippendorff_alpha_primary": {s: round(V.krippendorff_alpha(u), 4)
                                              for s, u in sorted(alpha_units.items()) if len(u) > 1}}
    return entries, summary


def _counts(entries: dict) -> dict:
    out: dict = {}
    for e in entries.values():
        out[e["split"]] = out.get(e["split"], 0) + 1
    return dict(sorted(out.items()))
