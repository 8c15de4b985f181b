"""Cache of a frozen upstream's hidden states in Kaldi ark/scp (kaldiio).

With ``cache_features: True`` (and a frozen upstream, no augmentation) the
upstream runs once per utterance; training and scoring then read its hidden
states from the cache and only the layer weights, pooling and heads run each epoch.

* A Whisper upstream with ``trainable_layers`` k > 0 is cached too: the cache holds the
  pretrained states, and training runs the k fine-tuned top layers on the cached input to the
  first of them each batch (``trainable_top``; ``speaker_norm`` statistics of their states are
  recomputed after every training epoch, ``EmotionBrain.refresh_speaker_stats``). The exported
  model's upstream carries the fine-tuned layers, so stage 4 caches its own states.
* Each utterance is encoded alone (batch of one), so its features do not
  depend on which other utterances share its batch (Whisper has no padding
  mask).
* A matrix per utterance, ``(frames, layers * dim)``; the layers kept are the
  ``upstream_layers`` subset (all when null). ``feature_compression`` is
  Kaldi's compression method (null = float32; 3 = two bytes per value).
* The cache is kept per upstream and per corpus, utterance by utterance:
  ``<feature_folder>/<upstream fingerprint>/<corpus>/part-<hash>/feats.{ark,scp}``,
  where the fingerprint covers the upstream's class, constructor options, code, weights, input
  length, layers and compression, and an utterance is known by its id, audio path and the file's
  content (sha1 of its bytes, remembered in ``<feature_folder>/audio_digests.json`` by the file's
  size and modification time, so an unchanged file is read once): a copy of the corpora that does
  not keep the files' times, or lies under another data root, finds the features made. A
  run extracts only the utterances no earlier run extracted (a new part), so runs that share
  one ``feature_folder`` (folds, seeds, ablations, stage 3 and stage 4) compute each
  corpus once. A set's scp (``sets/<hash>.scp``) lists the parts' matrices. Each part is a
  ``Stage`` (``stage.py``): a crash mid-part (no completion marker) starts that part clean.
* An augmented copy of a training utterance (``augment.with_copies``: an ``augment`` field)
  is known by its id, audio path and ``augment`` spec, and extracted from the copy's waveform
  (``augment.apply_copy`` with ``augment.copy_suite``: the hparams' ``wav_augment``).
* Runs may share one ``feature_folder``: extraction holds the folder's lock
  (``stage.folder_lock``), so a run never cleans a part another run is writing; it
  waits, naming the holder, and then finds the part made.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import kaldiio
import numpy as np
import speechbrain as sb
import torch
from tqdm import tqdm

from .augment import apply_copy, copy_suite, training_suite
from .stage import MARKER, Stage, folder_lock, read_entries, write_text_atomic


def check_cacheable(hp: dict):
    """Caching is only sound when the cached hidden states never change during training: a frozen
    upstream, or one whose trainable top layers run on the cached input to the first of them
    (``trainable_top``); and no augmentation."""
    up = hp["upstream"]
    trainable = [n for n, p in up.named_parameters() if p.requires_grad]
    problems = []
    if trainable and not trainable_top(up):
        problems.append(f"the upstream has trainable parameters ({len(trainable)} tensors, e.g. {trainable[0]}) "
                        f"and {type(up).__name__} cannot run its top layers on cached states: set trainable_layers: 0")
    if trainable_top(up) and hp.get("upstream_layers"):
        problems.append(f"trainable_layers: {trainable_top(up)} runs the top layers on the cached input to the "
                        f"first of them, but upstream_layers: {list(hp['upstream_layers'])} caches a subset of the "
                        "layers: set upstream_layers: null, or trainable_layers: 0")
    if training_suite(hp) is not None or (hp.get("augment", True) and getattr(up, "spec_augment", None) is not None):
        problems.append("augmentation changes the upstream's input every epoch: set augment: False")
    if problems:
        raise ValueError("cache_features: True needs a frozen upstream (or trainable top layers over cached "
                         "ones) without augmentation; " + "; ".join(problems))


def trainable_top(up) -> int:
    """How many top layers of upstream ``up`` train on cached hidden states (0: frozen, or it cannot):
    the cache holds the pretrained upstream's states, exact for every layer below them, and the
    Brain runs them on the cached input to the first (``WhisperUpstream.forward_top``)."""
    return int(getattr(up, "trainable_layers", 0) or 0) if hasattr(up, "forward_top") else 0


# plain attributes of an upstream that govern training only, not the hidden states of a file
TRAINING_ONLY = {"training", "trainable_layers", "freeze", "freeze_encoder", "for_pretraining", "spec_augment"}


def upstream_options(up) -> dict:
    """The upstream's plain attributes (its constructor's options: ``pad_to_30s``, ``max_frames``,
    ``feature_set``, ...) but those of ``TRAINING_ONLY``."""
    plain = (bool, int, float, str, type(None), list, tuple)
    return {k: v for k, v in sorted(vars(up).items())
            if not k.startswith("_") and k not in TRAINING_ONLY and isinstance(v, plain)}


def code_version(up) -> str:
    """A hash of the code that computes the cached states: the upstream's module, audio reading and
    this file's extraction."""
    from . import audio

    h = hashlib.sha1()
    for f in (inspect.getsourcefile(type(up)), inspect.getsourcefile(audio), __file__):
        h.update(Path(f).read_bytes())
    return h.hexdigest()[:16]


def upstream_fingerprint(hp: dict) -> str:
    """The cache's key of an upstream: its class, constructor options, code and weights, and how
    audio is read for it (crop, trimming, level) and stored (layers, compression)."""
    h = hashlib.sha1()
    up = hp["upstream"]
    meta = {"class": type(up).__qualname__, "max_seconds": hp.get("max_seconds"), "trim_db": hp.get("trim_db"),
            "level_db": hp.get("level_db"),
            "layers": hp.get("upstream_layers"), "compression": hp.get("feature_compression"),
            "options": upstream_options(up), "code": code_version(up)}
    h.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for name, t in sorted(up.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
                 if t.numel() else b"")
    return h.hexdigest()[:16]


AUGMENTED = "#augment="  # audio path + this + augment spec: the source of an augmented copy


def source_of(entry: dict, data_root=None, digests: dict | None = None) -> str:
    """What a cached utterance is made from: its audio path with the digest of the file's content
    (a re-encoded or re-trimmed file at the same path is another source), and for an augmented
    copy its spec. ``digests``: {file: [size, mtime_ns, sha1]} of files hashed before."""
    path = entry["wav"]
    stamp = DIGEST + content_digest(Path(path.replace("{data_root}", str(data_root))), digests)
    return path + stamp + (AUGMENTED + entry["augment"] if entry.get("augment") else "")


DIGEST = "#sha1="  # audio path + this + the sha1 of the file's bytes


def content_digest(path: Path, digests: dict | None = None) -> str:
    """sha1 of ``path``'s bytes ("missing": extraction names the file); a file of the size and
    modification time recorded in ``digests`` is not read again, and a new digest is recorded."""
    try:
        st = path.stat()
    except OSError:
        return "missing"
    known = (digests or {}).get(str(path))
    if known and known[:2] == [st.st_size, st.st_mtime_ns]:
        return known[2]
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha1").hexdigest()
    if digests is not None:
        digests[str(path)] = [st.st_size, st.st_mtime_ns, digest]
    return digest


@torch.no_grad()
def _extract(hp: dict, entries: dict, ark: Path, scp: Path, device: str):
    """Write the upstream's hidden states of ``entries`` ({uid: ``source_of`` its entry}) to ``ark`` / ``scp``."""
    from .audio import load_audio

    up = hp["upstream"].to(device)
    was_training = up.training
    up.eval()
    layers = hp.get("upstream_layers")
    try:
        with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}",
                                 compression_method=hp.get("feature_compression")) as writer:
            for uid, source in tqdm(entries.items(), desc=f"features {ark.parent.parent.name}", leave=False):
                path, _, spec = source.partition(AUGMENTED)
                path = path.partition(DIGEST)[0]
                wav = load_audio(path.replace("{data_root}", str(hp["data_root"])), hp.get("max_seconds"),
                                 hp.get("trim_db"), hp.get("level_db"))
                if spec:
                    if copy_suite(hp) is None:
                        raise ValueError(f"{uid}: an augmented copy, but the hparams make no copies "
                                         "(augment_copies and a wav_augment suite)")
                    wav = apply_copy(copy_suite(hp), wav, spec)
                hid = up(wav[None].to(device), torch.ones(1, device=device))  # (L, 1, T, D)
                if layers:
                    hid = hid[list(layers)]
                hid = hid[:, 0].permute(1, 0, 2)  # (T, L, D): time first, as SpeechBrain pads
                writer[uid] = hid.reshape(hid.shape[0], -1).float().cpu().numpy()
    finally:
        up.train(was_training)


def _digest(obj) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _known(corpus_dir: Path) -> dict:
    """{uid: {source: scp line}} of a corpus's finished parts (one id may be cached from several
    sources: an audio file that moved, a copy made by another suite)."""
    known: dict = {}
    for part in sorted(corpus_dir.glob("part-*")):
        if not (part / MARKER).exists() or not (part / "entries.json").exists():
            continue
        sources = json.loads((part / "entries.json").read_text())
        for line in (part / "feats.scp").read_text().splitlines():
            uid = line.split(" ", 1)[0]
            known.setdefault(uid, {})[sources.get(uid)] = line
    return known


def ensure(hp: dict, sets: dict, device: str = "cpu") -> dict:
    """Extract the utterances of ``sets`` ({name: manifest}) no earlier run extracted with this
    upstream; returns {set name: scp path} (the set's utterances, in manifest order)."""
    root = Path(hp["feature_folder"]) / upstream_fingerprint(hp)
    out = {}
    with folder_lock(Path(hp["feature_folder"]), "features"):  # runs sharing the cache never clean a part another is writing
        digests_file = Path(hp["feature_folder"]) / "audio_digests.json"
        digests = json.loads(digests_file.read_text()) if digests_file.exists() else {}
        for name, manifest in sets.items():
            entries = read_entries(manifest)
            before = dict(digests)
            lines = {}
            by_corpus: dict = {}
            for uid, e in entries.items():
                by_corpus.setdefault(e.get("corpus") or "_", {})[uid] = source_of(e, hp["data_root"], digests)
            if digests != before:
                write_text_atomic(digests_file, json.dumps(digests))
            for corpus, wavs in sorted(by_corpus.items()):
                known = _known(root / corpus)
                missing = {u: w for u, w in wavs.items() if w not in known.get(u, {})}
                if missing:
                    part = root / corpus / f"part-{_digest(missing)}"
                    with Stage(part, {"entries": _digest(missing)}, f"features {corpus} ({len(missing)} utterances)") as st:
                        if not st.done:
                            _extract(hp, missing, st.dir / "feats.ark", st.dir / "feats.scp", device)
                            (st.dir / "entries.json").write_text(json.dumps(missing))
                    known = _known(root / corpus)
                lines.update({u: known[u][w] for u, w in wavs.items()})
            text = "".join(lines[u] + "\n" for u in entries)
            scp = root / "sets" / f"{hashlib.sha1(text.encode()).hexdigest()[:16]}.scp"
            if not scp.exists():
                write_text_atomic(scp, text)
            out[name] = scp
    return out


def scp_for(hp: dict, sets: dict, device: str = "cpu") -> dict:
    """``ensure`` on the main process (DDP: the others wait for it, then run it to find the scps made)."""
    if not hp.get("cache_features"):
        return {}
    sb.utils.distributed.run_on_main(ensure, args=[hp, sets, device])
    return ensure(hp, sets, device)


def _ark_bytes(scp: Path) -> int:
    """Bytes of the matrices an scp names (each ark's size times the share of its matrices listed)."""
    listed: dict = {}
    for line in Path(scp).read_text().splitlines():
        ark = line.split(" ", 1)[1].rsplit(":", 1)[0]
        listed[ark] = listed.get(ark, 0) + 1
    total = 0
    for ark, n in listed.items():
        own = Path(ark).with_name("feats.scp")
        size = Path(ark).stat().st_size if Path(ark).exists() else 0
        lines = sum(1 for _ in open(own)) if own.exists() else n
        total += size * n // max(lines, 1)
    return total


def feature_loader(scp: Path, dim: int, memory_gb: float = 0.0):
    """uid → (T, L, D) tensor (D = ``dim``), from an scp written by ``ensure``.

    ``memory_gb`` > 0: when the set's matrices fit in that many GB (as float16), they are read
    once, sequentially, into memory (float16, half the size of the float32 ark) and served
    from there as float16 (the layer sum accumulates them in float32); otherwise each item is
    read from the ark on demand. float16 keeps ~3 decimal digits: the heads then see features
    rounded to float16 (``feature_memory_gb: 0`` for the exact float32 path)."""
    if memory_gb and _ark_bytes(scp) / 2 <= memory_gb * 2**30:  # float16: padded as such, summed in float32
        table = {uid: torch.from_numpy(np.asarray(m, dtype=np.float16))
                 for uid, m in kaldiio.load_scp_sequential(str(scp))}
    else:
        table = kaldiio.load_scp(str(scp))

    def load(uid):
        if uid not in table:
            raise KeyError(f"{scp}: no features for utterance '{uid}' (the manifest changed after caching?)")
        m = table[uid]
        m = m if isinstance(m, torch.Tensor) else torch.from_numpy(np.array(m, dtype=np.float32))  # a writable copy
        return m.view(m.shape[0], -1, dim)

    return load


def cached_hidden(model, training: dict, name: str, manifest: Path, data_root, device: str = "cpu"):
    """path → (T, L, D) hidden states of an exported ``model``'s upstream for the files of ``manifest``
    (stage 4 of a ``cache_features`` run; ``training``: the training hparams as plain values). The
    cache is keyed by the exported upstream's own weights and input reading, so a match is this
    model's upstream output for that file; files not in the manifest give None."""
    hp = {"upstream": model.mods.upstream, "max_seconds": model.max_seconds, "trim_db": model.trim_db,
          "level_db": model.level_db, "upstream_layers": training.get("upstream_layers"),
          "feature_compression": training.get("feature_compression"),
          "feature_folder": training["feature_folder"], "data_root": str(data_root)}
    load = feature_loader(ensure(hp, {name: manifest}, device)[name], int(training["encoder_dim"]))
    uid_of = {e["wav"].replace("{data_root}", str(data_root)): uid for uid, e in read_entries(manifest).items()}
    return lambda path: load(uid_of[str(path)]).numpy() if str(path) in uid_of else None
