"""SpeechBrain datasets from stage-2 manifests.

Each item provides ``sig`` (16 kHz mono, truncated to ``max_seconds`` if set),
``y_soft`` (the soft target named by ``target_key``, or the one-hot hard label
when ``hard_targets``), ``y_hard`` (class index), ``y_domain`` (corpus or
language index), ``y_gender``, ``y_avd`` (A/V/D in [0, 1], NaN if absent),
``y_speaker`` (index among training speakers, -1 otherwise) and ``y_text``
(the transcript, "" if none). With a feature cache (``feature_cache.py``) the
item ``feats`` (frames, layers, dim) replaces ``sig``. Which utterances a set holds:
those with a hard label; with soft targets also those with a soft target but no hard
label (a soft mapping row such as boredom), except MSP-Podcast's Other/No-agreement
(``ox``), which only ``keep_unlabelled`` (O/X inclusion) brings in. Utterances without
a target (labels the mapping excludes) are dropped; ``y_hard`` is -1 where there is
no hard label, so selection metrics skip them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import speechbrain as sb
import torch

from .audio import load_audio
from .stage import read_entries

GENDERS = ["F", "M"]


def pad_right(tensors: list, mode: str = "constant", value: float = 0.0):
    """SpeechBrain's ``batch_pad_right`` (same batch, same relative lengths) written in one copy
    when the tensors differ in their first (time) dimension only, as every item here does:
    each goes straight into its row of the batch (SpeechBrain pads each, then stacks). Other
    shapes or padding modes go to SpeechBrain's. For ``PaddedBatch(padding_func=...)``."""
    first = tensors[0] if tensors else None
    if (mode != "constant" or len(tensors) < 2
            or any(t.shape[1:] != first.shape[1:] or t.dtype != first.dtype for t in tensors)):
        return sb.utils.data_utils.batch_pad_right(tensors, mode=mode, value=value)
    longest = max(t.shape[0] for t in tensors)
    if all(t.shape[0] == longest for t in tensors):  # the targets: nothing to pad
        return torch.stack(tensors), torch.ones(len(tensors))
    out = first.new_empty((len(tensors), longest, *first.shape[1:]))
    for row, t in zip(out, tensors):
        row[: t.shape[0]] = t
        row[t.shape[0]:] = value
    return out, torch.tensor([t.shape[0] / longest for t in tensors])


def domains_of(entries: dict, key: str) -> list:
    """The values of ``key`` in the training entries; unknown (``None``: an unknown speaker) is
    not a class, so those utterances get -1 and are ignored by that head's loss."""
    return sorted({e[key] for e in entries.values() if e.get(key) is not None})


def trains_on(e: dict, hp: dict) -> bool:
    """Whether a system trains (and selects) on an utterance: it has a target for one of the
    system's heads. A hard label always counts for a categorical head; a soft target only
    with soft targets; valid A/V/D for attribute heads. O/X utterances (``ox``) only with
    ``keep_unlabelled`` (O/X inclusion), for whichever head has a target for them: an
    attribute-only system trains on their A/V/D."""
    if e.get("ox") and not hp.get("keep_unlabelled"):
        return False
    categorical = hp.get("head") is not None or not hp.get("avd_heads")
    if categorical and (e.get("hard") is not None or
                        (not hp.get("hard_targets") and sum(e.get(hp.get("target_key", "target")) or [0]) > 0)):
        return True
    return hp.get("avd_heads") is not None and e.get("avd01") is not None


def corpus_inventories(hp: dict) -> dict:
    """corpus -> (C,) 0/1 mask of the classes its labels can be scored as (stage 2's ``summary.json``
    in ``labels_folder``, as stage 4 scores it); {} when it has none (every class allowed)."""
    path = Path(str(hp.get("labels_folder") or "")) / "summary.json"
    if not path.is_file():
        return {}
    classes = hp["classes"]
    return {c: torch.tensor([float(x in v.get("inventory", classes)) for x in classes])
            for c, v in read_entries(path).get("corpora", {}).items()}  # MSP-Podcast's summary has none


def make_dataset(path: Path | str, hp: dict, domains: list | None = None, speakers: list | None = None,
                 keep_all: bool = False, feats_scp: Path | None = None, normalizer=None, set_name: str | None = None):
    """The dataset of a stage-2 label file; ``feats_scp``: read the cached upstream features
    instead of the audio; ``normalizer`` (``speaker_norm.SpeakerNormalizer`` fitted on set
    ``set_name``): each item's statistics as ``speaker_stats``."""
    classes = hp["classes"]
    key = hp.get("target_key", "target")
    hard_targets = hp.get("hard_targets", False)
    domain_key = hp.get("domain_key", "corpus")
    max_seconds = hp.get("max_seconds")
    entries = read_entries(path)
    keep = {k: v for k, v in entries.items() if keep_all or trains_on(v, hp)}
    for e in keep.values():
        for k in ("avd01", "gender", "transcript", "corpus", key, domain_key,
                  normalizer.group_key if normalizer is not None else "speaker"):
            e.setdefault(k, None)
    ds = sb.dataio.dataset.DynamicItemDataset(keep)

    @sb.utils.data_pipeline.takes("wav")
    @sb.utils.data_pipeline.provides("sig")
    def audio(wav):
        return load_audio(wav.replace("{data_root}", str(hp["data_root"])), max_seconds, hp.get("trim_db"),
                          hp.get("level_db"))

    @sb.utils.data_pipeline.takes("hard", key, domain_key, "gender", "avd01")
    @sb.utils.data_pipeline.provides("y_soft", "y_hard", "y_domain", "y_gender", "y_avd")
    def labels(hard, soft, domain, gender, avd01):
        idx = classes.index(hard) if hard is not None else -1
        if hard_targets or soft is None:
            t = torch.zeros(len(classes))
            if idx >= 0:
                t[idx] = 1.0
        else:
            t = torch.tensor(soft, dtype=torch.float32)
        yield t
        yield torch.tensor([idx])  # shape (1,): SpeechBrain's padding needs a dimension
        yield torch.tensor([domains.index(domain) if domains and domain in domains else -1])
        yield torch.tensor([GENDERS.index(gender) if gender in GENDERS else -1])
        yield torch.tensor(avd01 if avd01 is not None else [np.nan] * 3, dtype=torch.float32)

    @sb.utils.data_pipeline.takes("speaker", "transcript")
    @sb.utils.data_pipeline.provides("y_speaker", "y_text")
    def extras(speaker, transcript):
        yield torch.tensor([speakers.index(speaker) if speakers and speaker in speakers else -1])
        yield transcript or ""

    inventory = corpus_inventories(hp)
    corpora, everything = sorted(inventory), torch.ones(len(classes))

    @sb.utils.data_pipeline.takes("corpus")
    @sb.utils.data_pipeline.provides("y_corpus", "y_allowed")
    def scoring(corpus):  # what dev is scored as per corpus (select_key corpus_uar): the corpus's classes
        yield torch.tensor([corpora.index(corpus) if corpus in inventory else -1])
        yield inventory.get(corpus, everything)

    items, signal = [audio, labels, extras, scoring], "sig"
    if normalizer is not None:
        @sb.utils.data_pipeline.takes(normalizer.group_key)
        @sb.utils.data_pipeline.provides("speaker_stats")
        def speaker_stats(group):
            return normalizer.item(set_name, group)

        items.append(speaker_stats)
    if feats_scp is not None:
        from .feature_cache import feature_loader

        load = feature_loader(feats_scp, hp["encoder_dim"], hp["feature_memory_gb"])
        items[0] = sb.utils.data_pipeline.provides("feats")(sb.utils.data_pipeline.takes("id")(load))
        signal = "feats"
    for item in items:
        sb.dataio.dataset.add_dynamic_item([ds], item)
    ds.set_output_keys(["id", signal, "y_soft", "y_hard", "y_domain", "y_gender", "y_avd", "y_speaker", "y_text",
                        "y_corpus", "y_allowed"]
                       + (["speaker_stats"] if normalizer is not None else []))
    return ds
