"""Cache of a frozen upstream's hidden states in Kaldi ark/scp (kaldiio).

With ``cache_features: True`` (and a frozen upstream, no augmentation) the
upstream runs once per utterance; training and scoring then read its hidden
states from ``<feature_folder>/<set>/feats.ark`` / ``feats.scp`` and only the
layer weights, pooling and heads run each epoch.

* Each utterance is encoded alone (batch of one), so its features do not
  depend on which other utterances share its batch (Whisper has no padding
  mask).
* A matrix per utterance, ``(frames, layers * dim)``; the layers kept are the
  ``upstream_layers`` subset (all when null). ``feature_compression`` is
  Kaldi's compression method (null = float32; 3 = two bytes per value).
* Each set's folder is a ``Stage`` (``stage.py``) whose options are the
  upstream's fingerprint (class, weights, input length, layers, compression)
  and the manifest's hash: another upstream or a changed manifest re-extracts
  the set, and a crash mid-set (no completion marker) starts it clean.
* Runs may share one ``feature_folder``: extraction holds the folder's lock
  (``stage.folder_lock``), so a run never cleans a set another run is writing; it
  waits, naming the holder, and then finds the set made.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import kaldiio
import numpy as np
import speechbrain as sb
import torch
from tqdm import tqdm

from .stage import Stage, folder_lock

def check_cacheable(hp: dict):
    """Caching is only sound when the upstream's output never changes during training."""
    up = hp["upstream"]
    trainable = [n for n, p in up.named_parameters() if p.requires_grad]
    problems = []
    if trainable:
        problems.append(f"the upstream has trainable parameters ({len(trainable)} tensors, e.g. {trainable[0]}): "
                        "set trainable_layers: 0")
    if hp.get("wav_augment") is not None or getattr(up, "spec_augment", None) is not None:
        problems.append("augmentation changes the upstream's input every epoch: set augment: False")
    if problems:
        raise ValueError("cache_features: True needs a frozen upstream without augmentation; "
                         + "; ".join(problems))


def upstream_fingerprint(hp: dict) -> str:
    h = hashlib.sha1()
    up = hp["upstream"]
    meta = {"class": type(up).__qualname__, "max_seconds": hp.get("max_seconds"), "trim_db": hp.get("trim_db"),
            "level_db": hp.get("level_db"),
            "layers": hp.get("upstream_layers"), "compression": hp.get("feature_compression")}
    h.update(json.dumps(meta, sort_keys=True).encode())
    for name, t in sorted(up.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
                 if t.numel() else b"")
    return h.hexdigest()[:16]


def _manifest_hash(path: Path, data_root) -> str:
    return hashlib.sha1(Path(path).read_bytes() + str(data_root).encode()).hexdigest()[:16]


@torch.no_grad()
def _extract(hp: dict, manifest: Path, ark: Path, scp: Path, device: str):
    from .audio import load_audio
    from .stage import read_entries

    up = hp["upstream"].to(device)
    was_training = up.training
    up.eval()
    layers = hp.get("upstream_layers")
    entries = read_entries(manifest)
    try:
        with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}",
                                 compression_method=hp.get("feature_compression")) as writer:
            for uid, e in tqdm(entries.items(), desc=f"features {manifest.stem}", leave=False):
                wav = load_audio(e["wav"].replace("{data_root}", str(hp["data_root"])), hp.get("max_seconds"),
                                 hp.get("trim_db"), hp.get("level_db"))
                hid = up(wav[None].to(device), torch.ones(1, device=device))  # (L, 1, T, D)
                if layers:
                    hid = hid[list(layers)]
                hid = hid[:, 0].permute(1, 0, 2)  # (T, L, D): time first, as SpeechBrain pads
                writer[uid] = hid.reshape(hid.shape[0], -1).float().cpu().numpy()
    finally:
        up.train(was_training)


def ensure(hp: dict, sets: dict, device: str = "cpu") -> dict:
    """Extract the sets that are missing or stale; returns {set name: scp path}."""
    folder = Path(hp["feature_folder"])
    fp = upstream_fingerprint(hp)
    out = {}
    with folder_lock(folder, "features"):  # runs sharing the cache never clean a set another is writing
        for name, manifest in sets.items():
            options = {"upstream": fp, "manifest": _manifest_hash(manifest, hp["data_root"])}
            with Stage(folder / name, options, f"features {name}") as st:
                if not st.done:
                    _extract(hp, Path(manifest), st.dir / "feats.ark", st.dir / "feats.scp", device)
            out[name] = scp_path(hp, name)
    return out


def scp_path(hp: dict, name: str) -> Path:
    return Path(hp["feature_folder"]) / name / "feats.scp"


def scp_for(hp: dict, sets: dict, device: str = "cpu") -> dict:
    """``ensure`` on the main process (DDP: the others wait), then every process reads the same cache."""
    if not hp.get("cache_features"):
        return {}
    sb.utils.distributed.run_on_main(ensure, args=[hp, sets, device])
    return {name: scp_path(hp, name) for name in sets}


def feature_loader(scp: Path, dim: int, memory_gb: float = 0.0):
    """uid → (T, L, D) tensor (D = ``dim``), from an scp written by ``ensure``.

    ``memory_gb`` > 0: when the set's matrices fit in that many GB (as float16), they are read
    once, sequentially, into memory (float16, half the size of the float32 ark) and served
    from there as float16 (the layer sum accumulates them in float32); otherwise each item is
    read from the ark on demand. float16 keeps ~3 decimal digits: the heads then see features
    rounded to float16 (``feature_memory_gb: 0`` for the exact float32 path)."""
    table = kaldiio.load_scp(str(scp))
    ark_bytes = sum(p.stat().st_size for p in {Path(str(scp)).with_name("feats.ark")} if p.exists())
    if memory_gb and ark_bytes / 2 <= memory_gb * 2**30:
        mem = {uid: torch.from_numpy(np.asarray(m, dtype=np.float16))
               for uid, m in kaldiio.load_scp_sequential(str(scp))}

        def load(uid):
            if uid not in mem:
                raise KeyError(f"{scp}: no features for utterance '{uid}' (the manifest changed after caching?)")
            m = mem[uid]
            return m.view(m.shape[0], -1, dim)  # float16: padded as such, summed in float32

        return load

    def load(uid):
        if uid not in table:
            raise KeyError(f"{scp}: no features for utterance '{uid}' (the manifest changed after caching?)")
        m = np.array(table[uid], dtype=np.float32)  # a writable copy
        return torch.from_numpy(m).view(m.shape[0], -1, dim)

    return load
