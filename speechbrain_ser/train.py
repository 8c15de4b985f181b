"""Stage 3: train the emotion Brain of a recipe hparams file.

    python -m speechbrain_ser.train HPARAMS --labels_folder L --data_root D --output_folder O [--key value ...]

Runs under ``torchrun`` too (SpeechBrain DDP; ``--distributed_backend gloo`` on
CPU). Resuming is free: the Checkpointer restores the last epoch, optimizer
and scheduler, so rerunning after an interruption continues. A finished run
leaves ``.done.json`` (its options, the epochs trained): rerunning it with the
same options does nothing and says so; more epochs continue it. A folder made
with another hparams content (after ``extends:``), other overrides or other
stage-2 labels is refused.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np
import ruamel.yaml
import speechbrain as sb
import torch

from . import feature_cache
from .augment import copy_suite, with_copies
from .brains.emotion import EmotionBrain
from .datasets import domains_of, make_dataset
from .hparams import load_hparams, merged_text, resolved_yaml
from .losses import inverse_frequency
from .speaker_norm import SpeakerNormalizer
from .stage import MARKER, atomic_writer, fingerprint, read_entries, write_json_atomic

logger = logging.getLogger(__name__)


def _peek(hparams_file, overrides: str) -> dict:
    """The merged hparams as plain data (before any object is built)."""
    return ruamel.yaml.YAML().load(resolved_yaml(hparams_file, overrides))


RESUMABLE = {"number_of_epochs"}  # may change between an interrupted run and its resumption
DERIVED = {"n_domains", "n_speakers"}  # set from the stage-2 labels, which are fingerprinted


FROZEN_UPSTREAM = "frozen_upstream.ckpt"  # in save/: the upstream's weights, written once per run


class UpstreamCheckpoint:
    """Checkpoint hooks of the upstream: an epoch never re-serialises weights that cannot have changed
    (35 MB for Whisper tiny, GBs for the large upstreams). The first save of a run writes the whole
    upstream once to ``save/frozen_upstream.ckpt`` (SpeechBrain's format); then each checkpoint's
    ``upstream.ckpt`` is a hard link to it (a copy where links are not supported) when nothing of the
    upstream trains, or holds only the parameters that train (fine-tuned top layers), the rest being
    those of that file. Recovery loads what the checkpoint holds onto the upstream built from its
    pretrained source; ``export.export`` writes the whole upstream (``full_upstream_state``)."""

    def __init__(self, module):
        self.trains = {n for n, p in module.named_parameters() if p.requires_grad}

    def save(self, module, path):
        path = Path(path)
        shared = path.parent.parent / FROZEN_UPSTREAM
        if not shared.exists():  # the frozen part as it is in every checkpoint of this run
            with atomic_writer(shared, binary=True) as f:
                torch.save(module.state_dict(), f)
        if not self.trains:
            try:
                os.link(shared, path)
            except OSError:
                shutil.copyfile(shared, path)
            return
        torch.save({k: v for k, v in module.state_dict().items() if k in self.trains}, path)

    def load(self, module, path, end_of_epoch=True):
        state = torch.load(path, map_location="cpu")
        missing, unexpected = module.load_state_dict(state, strict=False)
        if unexpected or (missing and set(state) != self.trains and set(state) != set(module.state_dict())):
            raise RuntimeError(f"{path}: the upstream's checkpoint does not fit it (unexpected {unexpected[:3]}, "
                               f"missing {missing[:3]})")


def full_upstream_state(checkpoint_file: Path) -> dict | None:
    """The whole upstream state of a checkpoint's ``upstream.ckpt`` that holds only the trained
    parameters: those over the run's ``frozen_upstream.ckpt`` (``UpstreamCheckpoint``); None when
    the file is whole already (a frozen upstream's link, or an older run's checkpoint)."""
    shared = Path(checkpoint_file).parent.parent / FROZEN_UPSTREAM
    if not shared.exists() or os.path.samefile(shared, checkpoint_file):
        return None
    state = torch.load(checkpoint_file, map_location="cpu")
    full = torch.load(shared, map_location="cpu")
    if not set(state) < set(full):
        return None
    full.update(state)
    return full


@sb.utils.checkpoints.register_checkpoint_hooks
class RandomState:
    """The random generators' state (torch, NumPy, Python) as a checkpoint recoverable: a run
    resumed from epoch k's checkpoint draws the same dropout masks, augmentations and crops in
    epoch k+1 as an uninterrupted run, so an interrupted and rerun training ends with the same
    weights (SpeechBrain's samplers already reseed per epoch; the global generators are ours)."""

    @sb.utils.checkpoints.mark_as_saver
    def _save(self, path):
        torch.save({"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
                    "python": random.getstate()}, path)

    @sb.utils.checkpoints.mark_as_loader
    def _load(self, path, end_of_epoch=True):
        state = torch.load(path, weights_only=False)
        torch.set_rng_state(state["torch"])
        np.random.set_state(state["numpy"])
        random.setstate(state["python"])


def set_aside_unreadable_checkpoints(checkpointer) -> list:
    """Before a run resumes: the newest checkpoints whose torch files do not load (a crash or a full
    disk during the save truncated them) are renamed ``unreadable-<name>`` with a warning, so SpeechBrain
    recovers from the newest one that loads. Returns the folders set aside."""
    aside = []
    for ckpt in sorted(checkpointer.list_checkpoints(), key=lambda c: c.meta.get("unixtime", 0), reverse=True):
        try:
            # SpeechBrain writes CKPT.yaml first, then each recoverable: a run killed during the save
            # leaves a checkpoint without some of its files
            missing = [n for n in checkpointer.recoverables if not (ckpt.path / f"{n}.ckpt").exists()]
            if missing:
                raise FileNotFoundError(f"no {', '.join(m + '.ckpt' for m in missing)}")
            for f in sorted(ckpt.path.glob("*.ckpt")):
                with open(f, "rb") as fh:
                    torch_zip = fh.read(4) == b"PK\x03\x04"
                if torch_zip:  # torch.save's format; SpeechBrain writes some recoverables (the epoch counter) as text
                    torch.load(f, map_location="cpu", weights_only=False)
            return aside
        except Exception as e:  # any failure to read a file means the checkpoint cannot be recovered
            dest = ckpt.path.with_name("unreadable-" + ckpt.path.name)  # no longer a CKPT* folder
            logger.warning("checkpoint %s does not load (%s): set aside as %s; recovering from the one before",
                        ckpt.path, str(e).splitlines()[0][:160], dest.name)
            print(f"stage 3: warning: {ckpt.path} does not load; set aside as {dest.name}", file=sys.stderr)
            ckpt.path.rename(dest)
            aside.append(dest)
    return aside


def run_options(hparams_file, ov: dict, labels: Path) -> dict:
    """What a training folder was made with: the hparams *content* after ``extends:``
    (not just its path), the stage-2 labels, and the overrides that cannot change
    between an interrupted run and its resumption."""
    return {"hparams": str(Path(hparams_file).resolve()),
            "hparams_content": hashlib.sha1(merged_text(hparams_file, {}).encode()).hexdigest()[:12],
            "labels": fingerprint(labels),
            "overrides": {k: str(v) for k, v in ov.items() if k not in RESUMABLE | DERIVED}}


def guard_options(out: Path, opts: dict):
    """Refuse to continue a training folder made with other options (outputs would mix)."""
    record = out / ".train_options.json"
    if record.exists():
        old = json.loads(record.read_text())
        if old != opts:
            diff = sorted(k for k in set(old.get("overrides", {})) | set(opts["overrides"])
                          if old.get("overrides", {}).get(k) != opts["overrides"].get(k))
            diff += [what for key, what in (("hparams", "hparams file"), ("hparams_content", "hparams content"),
                                            ("labels", "stage-2 labels")) if old.get(key) != opts[key]]
            raise SystemExit(f"{out} holds a training run with other options ({', '.join(diff)}); "
                             "use another --exp-dir or delete it")
    elif sb.utils.distributed.if_main_process():
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(record, opts)


def finished(argv) -> bool:
    """True (and logged) when the training folder already holds a finished run with these options."""
    hparams_file, _, overrides = sb.parse_arguments(argv)
    ov = ruamel.yaml.YAML().load(overrides) or {}
    out = Path(ov["output_folder"])
    marker = out / MARKER
    if not marker.exists():
        return False
    epochs = int(_peek(hparams_file, overrides)["number_of_epochs"])
    want = {**run_options(hparams_file, ov, Path(ov["labels_folder"])), "number_of_epochs": epochs}
    done = json.loads(marker.read_text()).get("options", {})
    if done == want:
        print(f"stage 3: {out} already holds this run, trained for {epochs} epochs; nothing to do")
        return True
    return False


def process_device(device: str | None) -> str | None:
    """Under torchrun, a device named without an index (``cuda``: ``./run.sh``'s default on a GPU
    node) is each process's own GPU, ``cuda:<LOCAL_RANK>``, not GPU 0 for every process."""
    rank = os.environ.get("LOCAL_RANK")
    if device == "cuda" and rank is not None and os.environ.get("RANK") is not None:
        return f"cuda:{int(rank)}"
    return device


def build(argv, for_training=True):
    """Parse arguments, load hparams, make datasets and the Brain."""
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    if process_device(run_opts.get("device")) != run_opts.get("device"):
        run_opts = dataclasses.replace(run_opts, device=process_device(run_opts.get("device")))
    sb.utils.distributed.ddp_init_group(run_opts)  # no-op unless launched by torchrun
    ov = ruamel.yaml.YAML().load(overrides) or {}
    labels = Path(ov["labels_folder"])
    train_entries = read_entries(labels / "train.json")
    peek = _peek(hparams_file, overrides)
    domains = domains_of(train_entries, peek.get("domain_key") or "corpus")
    ov["n_domains"] = max(1, len(domains))
    speakers = None
    if peek.get("n_speakers") is not None:
        speakers = domains_of(train_entries, "speaker")
        ov["n_speakers"] = len(speakers)
    hp = load_hparams(hparams_file, ov)
    upstream, layer_sum = hp.get("upstream"), hp.get("layer_sum")
    if upstream is not None and layer_sum is not None and hasattr(upstream, "n_layers"):
        try:  # before the experiment folder exists: a wrong encoder_layers leaves nothing behind
            layer_sum.check(upstream.n_layers, type(upstream).__name__)
        except ValueError as e:
            raise SystemExit(f"{hparams_file}: {e}") from None
    if hp.get("augment_copies"):  # augment.with_copies: the suite is kept for the copies before augment: False drops it
        if not hp.get("cache_features"):
            raise SystemExit(f"{hparams_file}: augment_copies needs cache_features: True (without a cache, "
                             "augment: True augments every epoch on the fly)")
        if hp.get("wav_augment") is None:
            raise SystemExit(f"{hparams_file}: augment_copies needs a wav_augment suite")
    if hp.get("cache_features"):
        feature_cache.check_cacheable(hp)
    try:
        normalizer = SpeakerNormalizer.from_hparams(hp, hp["modules"])
    except ValueError as e:
        raise SystemExit(f"{hparams_file}: {e}") from None
    if normalizer is not None:
        if not hp.get("cache_features"):
            raise SystemExit(f"{hparams_file}: speaker_norm needs cache_features: True (a frozen upstream "
                             "without augmentation: the speaker statistics are computed from the cached features)")
        if hp.get("upstream_layers"):
            raise SystemExit(f"{hparams_file}: speaker_norm normalises every hidden state: set upstream_layers: null")
    if for_training:
        guard_options(Path(hp["output_folder"]), run_options(hparams_file, ov, labels))
        # SpeechBrain's folder set-up (logging, env.log); the hparams record is
        # ours because SpeechBrain's copy would not know about `extends:`.
        sb.create_experiment_directory(experiment_directory=hp["output_folder"])
        if sb.utils.distributed.if_main_process():
            Path(hp["output_folder"], "hyperparams.yaml").write_text(
                f"# {hparams_file} after extends: and overrides\n" + resolved_yaml(hparams_file, ov))
            Path(hp["output_folder"], "domains.json").write_text(json.dumps(domains))
    unused = {"domain_head": "domain_weight", "gender_head": "gender_weight", "speaker_head": "speaker_weight",
              "speaker_norm_layer": "speaker_norm"}
    modules = {k: v for k, v in hp["modules"].items()
               if v is not None and not (k in unused and not hp.get(unused[k], 0))}
    hp["checkpointer"].add_recoverables(modules)
    hp["checkpointer"].add_recoverable("random_state", RandomState())
    if "upstream" in modules:
        hooks = UpstreamCheckpoint(modules["upstream"])
        hp["checkpointer"].add_recoverable("upstream", modules["upstream"], custom_save_hook=hooks.save,
                                           custom_load_hook=hooks.load)
    if for_training and sb.utils.distributed.if_main_process():
        set_aside_unreadable_checkpoints(hp["checkpointer"])
    class_weights = None
    if hp.get("class_weighted"):
        hard = [hp["classes"].index(e["hard"]) for e in train_entries.values() if e.get("hard") is not None]
        class_weights = inverse_frequency(hard, len(hp["classes"]))
        logger.info("class weights (inverse frequency of the training set's hard labels): %s",
                    dict(zip(hp["classes"], [round(float(w), 4) for w in class_weights])))
    if speakers is not None:
        logger.info("speaker head over the training set's %d speakers", len(speakers))
    brain = EmotionBrain(modules=modules, opt_class=hp["opt_class"], hparams=hp, run_opts=run_opts,
                         checkpointer=hp["checkpointer"], speakers=speakers, class_weights=class_weights,
                         normalizer=normalizer)
    return hp, brain, domains, labels


def make_datasets(hp: dict, brain, sets: dict, domains, keep_all=False) -> dict:
    """{name: manifest} → {name: dataset}; reads the feature cache when ``cache_features``.
    A speaker-normalised Brain's ``normalizer`` is fitted on each set's cache (``speaker_norm.py``)."""
    scps = feature_cache.scp_for(hp, sets, brain.device)
    norm = brain.normalizer
    for n, p in sets.items():
        if norm is not None:  # fine-tuned top layers: statistics recomputed from the ark each epoch
            load = (feature_cache.feature_loader(scps[n], hp["encoder_dim"])
                    if feature_cache.trainable_top(hp["upstream"]) else None)
            norm.fit_set(n, read_entries(p), scps[n], hp["encoder_dim"], load)
    return {n: make_dataset(p, hp, domains, brain.speakers, keep_all, scps.get(n), norm, n) for n, p in sets.items()}


SORTINGS = ("buckets", "random", "manifest")


def loader_options(hp: dict, train, valid) -> tuple:
    """The training and dev DataLoader options. ``sorting: buckets``: length-bucketed batches
    (``samplers.length_buckets``: at most ``batch_size`` utterances and ``batch_seconds`` of audio,
    reshuffled each epoch; dev in ascending length); ``random``: ``batch_size`` utterances drawn at
    random; ``manifest``: the manifest's order. A ``train_sampler`` (class balancing,
    undersampling) draws utterances itself: batches of ``batch_size`` in its order."""
    from .samplers import length_buckets

    loader = dict(hp["dataloader_options"])
    sorting = hp.get("sorting", "random")
    if sorting not in SORTINGS:
        raise SystemExit(f"sorting: '{sorting}' is not one of {', '.join(SORTINGS)}")
    sampler = hp.get("train_sampler")
    if sampler is not None:
        return dict(loader, sampler=sampler(train, seed=hp["seed"]), shuffle=False), loader
    if sorting != "buckets":
        return dict(loader, shuffle=sorting == "random"), loader
    rest = {k: v for k, v in loader.items() if k not in ("batch_size", "shuffle", "drop_last")}
    opts = dict(batch_size=int(hp["batch_size"]), max_seconds=hp.get("max_seconds"),
                batch_seconds=hp.get("batch_seconds"), num_buckets=int(hp.get("num_buckets") or 40))
    return (dict(rest, batch_sampler=length_buckets(train, seed=int(hp["seed"]), **opts)),
            dict(rest, batch_sampler=length_buckets(valid, shuffle=False, **opts)))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if finished(argv):
        return None
    hp, brain, domains, labels = build(argv)
    marker = Path(hp["output_folder"]) / MARKER
    if marker.exists() and sb.utils.distributed.if_main_process():
        marker.unlink()  # more epochs: the folder is a run in progress again
    train_manifest = labels / "train.json"
    if hp.get("augment_copies"):
        train_manifest = with_copies(train_manifest, Path(hp["output_folder"]) / "train_with_copies.json",
                                     int(hp["augment_copies"]), copy_suite(hp))
    ds = make_datasets(hp, brain, {"train": train_manifest, "dev": labels / "dev.json"}, domains)
    train, valid = ds["train"], ds["dev"]
    train_kwargs, valid_kwargs = loader_options(hp, train, valid)
    brain.fit(hp["epoch_counter"], train, valid, train_loader_kwargs=train_kwargs,
              valid_loader_kwargs=valid_kwargs)
    if sb.utils.distributed.if_main_process():
        opts = json.loads((Path(hp["output_folder"]) / ".train_options.json").read_text())
        write_json_atomic(marker, {"options": {**opts, "number_of_epochs": int(hp["number_of_epochs"])}})
    return brain


if __name__ == "__main__":
    torch.set_num_threads(max(1, torch.get_num_threads()))
    main()
