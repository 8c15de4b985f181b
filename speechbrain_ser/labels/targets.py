"""Stage 2: derive targets, hard labels, agreement and splits; stored in the manifest.

Two policies, one per recipe:

* ``unified`` (Multilingual16): native label → soft mapping → neutral smoothing.
  Where annotator votes exist (IEMOCAP, MSP-Podcast) and ``use_votes`` is on, the
  target is the mapping applied to the primary-vote distribution P instead of
  to the single consensus label. Held-out corpora (``held_out``) and every utterance
  in a held-out language (``held_out_languages``, per utterance: a bilingual corpus
  such as ESD keeps its other language in training) become ``zeroshot`` sets.
  Utterances whose label the mapping excludes (IEMOCAP ``xxx`` no majority and
  ``oth``, MSP-Podcast ``X``/``O``) get no target, so they are never trained on,
  selected on or scored, unless ``no_agreement: votes`` gives the no-agreement
  ones (``xxx``/``X``) a target from their votes (trained on with soft targets,
  still never a hard label). The hard label (scoring reference, hard-target
  training) of a native label is ``score_as[corpus][native]`` if the config sets
  it, the mapping row's class when the row is one-hot, and none otherwise
  (EmoDB boredom, MSP-Podcast contempt): no argmax tie-break decides a reference.
  Each corpus's class inventory (the classes its labels can be scored as, from
  the mapping, not from the data) is in ``summary.json``.
* ``msp`` (MSP-Podcast): majority, P, S, P*, S*, agreement, gender; Krippendorff's
  alpha per split in the summary.

Both policies map A/V/D from each corpus's own documented scale (``AVD_SCALE`` of
its reader: MSP-Podcast 1-7, IEMOCAP 1-5) to [0, 1] (``avd01``).

Corpora without an official partition are split by speaker (speaker-disjoint
dev and test) when they have at least 3 speakers, else by utterance; both
deterministic given the seed. A corpus module can name another unit
(``SPLIT_UNIT``: MESD splits by word, its speaker ids being voice types), and
utterances of unknown speakers are split one by one (``assign_splits``).
"""
from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np

from . import votes as V
from .harmonise import DEFAULT_MAPPING, LabelConfigError, load_mapping, load_space, scoring_class

MSP_SPLITS = {"train": "train", "dev": "dev", "test1": "test", "test2": "test", "test3": "test"}


def _h(*keys) -> float:
    """Stable pseudo-random number in [0, 1) from keys."""
    d = hashlib.sha1("/".join(map(str, keys)).encode()).hexdigest()
    return int(d[:8], 16) / 2 ** 32


def assign_splits(entries: dict, dev: float, test: float, seed: int, unit: str = "speaker") -> str:
    """Fill ``split`` where the corpus has none; return how ("official", the unit, "utterance").

    The unit is the speaker unless the corpus module says otherwise (``SPLIT_UNIT``; MESD's
    file names identify only the voice type, so it splits by word). Units go whole to one
    split, deterministically given the seed. An utterance whose unit is unknown (``None``:
    MSP-Podcast's ``Unknown`` speakers) is its own unit, assigned by its id: unknown
    speakers are never merged into one giant speaker. ``unit="utterance"`` assigns every
    utterance by its id.
    """
    if all(e["split"] for e in entries.values()):
        return "official"

    def by_id(uid):
        r = _h(seed, uid)
        return "test" if r < test else "dev" if r < test + dev else "train"

    units = sorted({e.get(unit) for e in entries.values() if e.get(unit) is not None} if unit != "utterance" else (),
                   key=lambda s: _h(seed, s))
    if len(units) >= 3:
        n_test = max(1, round(test * len(units))) if test > 0 else 0
        n_dev = max(1, round(dev * len(units)))
        role = {s: "test" for s in units[:n_test]}
        role.update({s: "dev" for s in units[n_test:n_test + n_dev]})
        for uid, e in entries.items():
            g = e.get(unit)
            e["split"] = e["split"] or (by_id(uid) if g is None else role.get(g, "train"))
        return unit
    for uid, e in entries.items():
        e["split"] = e["split"] or by_id(uid)
    return "utterance"


FOLD_KINDS = ("speaker_folds", "utterance_folds")


def apply_split_source(cfg: dict, corpus: str, rest: dict, entries: dict) -> str:
    """A split source in the label config sets train / test of ``rest`` for ``fold: k``:

    * ``splits: emobox:<dir>``: EmoBox's fold lists (``labels/emobox.py``); utterances in neither
      list leave ``entries`` (and ``rest``);
    * ``splits: speaker_folds:K``: K folds of disjoint speakers (the corpus's split unit,
      ``SPLIT_UNIT``), near-equal in speakers, drawn by the seed; fold k's speakers are the test;
    * ``splits: utterance_folds:K``: K folds of utterances drawn at random by the seed, as a random
      split that ignores speakers does (test speakers also speak in training: for measuring what
      such a split leaks, not for reporting a speaker-independent result).

    Dev is then drawn from the training part by ``assign_splits`` (no further test), by the unit
    ``dev_unit`` names: ``auto`` (the default) mirrors the fold's test, by whole speakers (the
    corpus's split unit) when no test speaker speaks in the training part, by utterance when the
    fold hears its test speakers in training (EmoBox's URDU, TESS and ASED folds, utterance
    folds), so that the checkpoint is chosen on the condition the test scores; ``speaker`` or
    ``utterance`` force one. Returns a note for the summary ('' when the config names no split
    source)."""
    source = cfg.get("splits")
    if not source:
        return ""
    kind, _, where = str(source).partition(":")
    fold = int(cfg.get("fold", 1))
    if kind == "emobox" and where:
        from .emobox import fold_splits

        roles, note = fold_splits(where, corpus, fold, rest)
    elif kind in FOLD_KINDS and where.isdigit() and int(where) >= 2:
        roles, note = fold_roles(rest, kind, int(where), fold, cfg.get("seed", 0), split_unit(corpus))
    else:
        raise LabelConfigError(f"splits: expected 'emobox:<folder of EmoBox data/>', 'speaker_folds:K' or "
                               f"'utterance_folds:K' (K >= 2), got {source!r}")
    for uid in list(rest):
        if uid not in roles:
            rest.pop(uid, None)
            entries.pop(uid, None)
        else:
            rest[uid]["split"] = "test" if roles[uid] == "test" else ""
    train = {uid: e for uid, e in rest.items() if not e["split"]}  # dev: from the train list only
    unit = dev_unit(cfg.get("dev_unit", "auto"), split_unit(corpus), train, rest)
    how = assign_splits(train, cfg.get("dev_fraction", 0.15), 0.0, cfg.get("seed", 0), unit)
    return f"; {note}; dev by {how}"


DEV_UNITS = ("auto", "speaker", "utterance")


def dev_unit(rule: str, unit: str, train: dict, fold: dict) -> str:
    """The unit a split source's dev is drawn by (``apply_split_source``): ``auto`` is ``unit``
    (the corpus's split unit) unless a test utterance's ``unit`` also occurs in ``train``, then
    ``utterance``."""
    if rule not in DEV_UNITS:
        raise LabelConfigError(f"dev_unit: expected one of {', '.join(DEV_UNITS)}, got {rule!r}")
    if rule != "auto":
        return unit if rule == "speaker" else "utterance"
    heard = {e.get(unit) for e in train.values()} - {None}
    return "utterance" if any(e.get(unit) in heard for e in fold.values() if e["split"] == "test") else unit


def fold_roles(entries: dict, kind: str, k: int, fold: int, seed: int, unit: str) -> tuple[dict, str]:
    """({uid: 'train' or 'test'}, a note) of fold ``fold`` of ``k`` (``apply_split_source``). Units
    (speakers, or utterances) are ordered by a hash of the seed and dealt round-robin to the folds, so
    fold sizes differ by one unit at most; an utterance of unknown speaker is a unit of its own."""
    if not 1 <= fold <= k:
        raise LabelConfigError(f"fold: {fold} is not one of 1..{k} of splits {kind}:{k}")
    key = {uid: (e.get(unit) if kind == "speaker_folds" and e.get(unit) is not None else ("utt", uid))
           for uid, e in entries.items()}
    units = sorted(set(key.values()), key=lambda u: _h(seed, kind, *([u] if isinstance(u, str) else u)))
    if len(units) < k:
        raise LabelConfigError(f"splits {kind}:{k}: only {len(units)} units ({unit if kind == 'speaker_folds' else 'utterances'})")
    of = {u: i % k + 1 for i, u in enumerate(units)}
    roles = {uid: "test" if of[u] == fold else "train" for uid, u in key.items()}
    test_units = sum(f == fold for f in of.values())
    what = f"{unit}s" if kind == "speaker_folds" else "utterances"
    return roles, f"{kind} fold {fold} of {k}: {test_units} test {what}, {sum(r == 'test' for r in roles.values())} test utterances"


def speakers_seen(entries: dict):
    """Share of a corpus's test utterances whose (known) speaker also has training utterances:
    > 0 means its in-domain test is speaker-dependent (TESS's 2 speakers, ESD's official split)."""
    train = {e["speaker"] for e in entries.values() if e["split"] == "train" and e.get("speaker") is not None}
    test = [e.get("speaker") for e in entries.values() if e["split"] == "test"]
    return round(sum(s is not None and s in train for s in test) / len(test), 4) if test else None


def split_unit(corpus: str) -> str:
    """The manifest field a corpus without an official partition is split by."""
    from .. import corpora

    try:
        return getattr(corpora.get(corpus), "SPLIT_UNIT", "speaker")
    except KeyError:
        return "speaker"


def vote_summary(votes: list, classes: list) -> dict:
    prim = [v["primary"] for v in votes]
    P = V.primary_distribution(prim, classes)
    S = V.secondary_distribution([v["secondary"] for v in votes], classes)
    return dict(majority=V.majority(prim), P=P, S=S, P_star=V.high_agreement_p(prim),
                S_star=V.high_agreement_s(S), agreement=round(V.primary_agreement(prim), 4),
                entropy=round(V.normalised_entropy(P), 4), n_annotators=len(votes))


NO_AGREEMENT = {"iemocap": "xxx", "msp_podcast": "X"}


def unified_targets(manifests: dict, cfg: dict) -> tuple[dict, dict]:
    """{corpus: manifest} → ({corpus: labelled manifest}, summary)."""
    mapping = load_mapping(cfg.get("mapping") or DEFAULT_MAPPING, overrides={"default_epsilon": cfg.get("default_epsilon", 0.1),
                   "corpora": cfg.get("epsilon_overrides") or {}})
    classes = mapping.space.classes
    held_out = set(cfg.get("held_out") or [])
    held_languages = set(cfg.get("held_out_languages") or [])
    score_as = cfg.get("score_as") or {}
    no_agreement = cfg.get("no_agreement", "exclude")
    if no_agreement not in ("exclude", "votes"):
        raise LabelConfigError(f"no_agreement must be 'exclude' or 'votes', got {no_agreement!r}")
    out, summary = {}, {"space": classes, "no_agreement": no_agreement, "corpora": {}}
    for corpus, entries in manifests.items():
        entries = {k: dict(v) for k, v in entries.items()}
        for e in entries.values():  # per utterance: ESD's Mandarin half leaves training, its English half stays
            if corpus in held_out or e["language"] in held_languages:
                e["split"] = "zeroshot"
        rest = {k: e for k, e in entries.items() if e["split"] != "zeroshot"}
        fold_note = apply_split_source(cfg, corpus, rest, entries)
        if not rest:
            how = "zeroshot"
        elif corpus in (cfg.get("training_only") or []):  # too few speakers for a speaker-disjoint test
            for e in rest.values():
                e["split"] = "train"
            how = "training only"
        else:
            how = assign_splits(rest, cfg.get("dev_fraction", 0.15), cfg.get("test_fraction", 0.2),
                                cfg.get("seed", 0), split_unit(corpus))
        if rest and len(rest) < len(entries):
            how += f"; {len(entries) - len(rest)} utterances in held-out languages are zero-shot"
        if fold_note:  # the fold lists set every split: they, not an official partition
            how = fold_note[2:] + how.removeprefix("official")
        hard_of = {n: scoring_class(mapping, corpus, n, score_as) for n in mapping.corpora[corpus].rows}
        excluded, unscored, from_votes = {}, {}, 0
        for uid, e in entries.items():
            native = e["native"]
            native_t = mapping.target(corpus, native) if native is not None else None
            raw, source = native_t, "label"
            include_votes = native_t is not None or (no_agreement == "votes" and native == NO_AGREEMENT.get(corpus))
            if e.get("votes") and cfg.get("use_votes", True) and include_votes:
                mixed = sum((w * mapping.target(corpus, c) for v in e["votes"] for c, w in V.shares(v["primary"])
                             if mapping.target(corpus, c) is not None), np.zeros(len(classes)))
                if mixed.sum() > 0:
                    raw, source = mixed / mixed.sum(), "votes"
            e["split"] = MSP_SPLITS.get(e["split"], e["split"])
            if e.get("avd"):
                e["avd01"] = avd_unit(corpus, e["avd"])
            if raw is None:
                per_split = excluded.setdefault(str(native), {})
                per_split[e["split"]] = per_split.get(e["split"], 0) + 1
                e.update(target=None, hard=None, epsilon=None, target_source=None)
                continue
            from_votes += native_t is None
            hard = hard_of.get(native) if native_t is not None else None
            if hard is None:
                unscored[str(native)] = unscored.get(str(native), 0) + 1
            eps = mapping.epsilon(corpus, e.get("intensity")) if cfg.get("neutral_smoothing", True) else 0.0
            target = mapping.smooth(raw, eps)
            e.update(target=[round(float(x), 6) for x in target],
                     target_raw=[round(float(x), 6) for x in raw],
                     native_classes=[c for c, w in zip(classes, native_t if native_t is not None else raw) if w > 0],
                     hard=hard, epsilon=eps, target_source=source)
        out[corpus] = entries
        summary["corpora"][corpus] = dict(
            split_by=how, counts=_counts(entries), excluded=sum(sum(v.values()) for v in excluded.values()),
            excluded_by_label=dict(sorted(excluded.items())),
            no_agreement_with_vote_targets=from_votes,
            no_hard_label=dict(sorted(unscored.items())),
            test_speakers_in_train=speakers_seen(entries),
            inventory=[c for c in classes if c in set(hard_of.values())])
    return out, summary


def avd_unit(corpus: str, avd) -> list:
    """A/V/D on the corpus's documented scale (its reader's ``AVD_SCALE``: MSP-Podcast 1-7,
    IEMOCAP 1-5) mapped to [0, 1], the scale the attribute heads train on."""
    from .. import corpora

    scale = getattr(corpora.get(corpus), "AVD_SCALE", None) if corpus in corpora.NAMES else None
    if scale is None:
        raise LabelConfigError(f"{corpus}: the reader yields arousal/valence/dominance but declares no AVD_SCALE "
                               "(the (low, high) of its rating scale)")
    lo, hi = scale
    return [round((float(x) - lo) / (hi - lo), 6) for x in avd]


def msp_targets(entries: dict, cfg: dict, corpus: str = "msp_podcast") -> tuple[dict, dict]:
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
            e["avd01"] = avd_unit(corpus, e["avd"])
    summary = {"space": classes, "counts": _counts(entries),
               "krippendorff_alpha_primary": {s: round(V.krippendorff_alpha(u), 4)
                                              for s, u in sorted(alpha_units.items()) if len(u) > 1}}
    return entries, summary


def native_targets(manifests: dict, cfg: dict) -> tuple[dict, dict]:
    """The ``native`` policy: a corpus's own label set as the class space (RAVDESS's 8 classes,
    calm apart from neutral), one-hot targets, no mapping or smoothing; for the single-corpus
    protocols published results use. Every corpus in it must share one label set; held-out
    corpora become ``zeroshot`` sets as in the unified policy."""
    from .. import corpora

    label_sets = {c: sorted(corpora.get(c).LABELS) for c in manifests}
    classes = next(iter(label_sets.values()))
    if any(v != classes for v in label_sets.values()):
        raise LabelConfigError(f"policy native needs corpora with one label set, got {label_sets}")
    held_out = set(cfg.get("held_out") or [])
    out, summary = {}, {"space": classes, "corpora": {}}
    for corpus, entries in manifests.items():
        entries = {k: dict(v) for k, v in entries.items()}
        if corpus in held_out:
            for e in entries.values():
                e["split"] = "zeroshot"
            how = "zeroshot"
        else:
            how = apply_split_source(cfg, corpus, entries, entries)[2:] or assign_splits(
                entries, cfg.get("dev_fraction", 0.15), cfg.get("test_fraction", 0.2), cfg.get("seed", 0),
                split_unit(corpus))
        for e in entries.values():
            e["split"] = MSP_SPLITS.get(e["split"], e["split"])
            hard = e["native"] if e["native"] in classes else None
            e.update(hard=hard, target=[float(c == hard) for c in classes] if hard else None, epsilon=0.0,
                     target_source="label" if hard else None)
        out[corpus] = entries
        summary["corpora"][corpus] = dict(split_by=how, counts=_counts(entries), inventory=classes,
                                          no_hard_label={}, test_speakers_in_train=speakers_seen(entries))
    return out, summary


def _counts(entries: dict) -> dict:
    return dict(sorted(Counter(e["split"] for e in entries.values()).items()))
