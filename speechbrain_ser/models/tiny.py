"""Tiny random models with the architecture of the hub models, saved locally.

Debug runs of GPU hparams files (whisper_large_v3.yaml, wavlm_large.yaml, ...)
override ``upstream_source`` with one of these directories, so the very
loading code of the hub model runs offline in seconds:

    python -m speechbrain_ser.models.tiny --kind whisper-large-v3 --out DIR

Kinds: whisper (80 mel bins, as tiny..medium), whisper-large-v3 (128 mel bins),
wavlm, wav2vec2, hubert. Every model has ``hidden`` dims and ``layers`` layers.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

KINDS = ("whisper", "whisper-large-v3", "wavlm", "wav2vec2", "hubert")


def make_tiny(kind: str, out: Path | str, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    out = Path(out)
    torch.manual_seed(seed)
    if kind.startswith("whisper"):
        from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

        mels = 128 if kind == "whisper-large-v3" else 80
        cfg = WhisperConfig(vocab_size=128, num_mel_bins=mels, d_model=hidden, encoder_layers=layers,
                            decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
                            encoder_ffn_dim=2 * hidden, decoder_ffn_dim=2 * hidden,
                            max_source_positions=1500, max_target_positions=32,
                            bos_token_id=1, eos_token_id=2, pad_token_id=2, decoder_start_token_id=1)
        WhisperModel(cfg).save_pretrained(out)
        WhisperFeatureExtractor(feature_size=mels).save_pretrained(out)
        return out
    from transformers import Wav2Vec2FeatureExtractor

    common = dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                  intermediate_size=2 * hidden, conv_dim=(hidden, hidden),
                  conv_stride=(5, 64), conv_kernel=(10, 64),  # total stride 320: 50 frames/s as the real models
                  num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, vocab_size=32)
    if kind == "wavlm":
        from transformers import WavLMConfig as C, WavLMModel as M
        common.update(num_buckets=32, max_bucket_distance=100)
    elif kind == "wav2vec2":
        from transformers import Wav2Vec2Config as C, Wav2Vec2Model as M
    elif kind == "hubert":
        from transformers import HubertConfig as C, HubertModel as M
    else:
        raise ValueError(f"unknown kind '{kind}' (have {KINDS})")
    # as the large models of the GPU configs (wavlm-large, wav2vec2 XLS-R, hubert-large): layer-normalised
    # feature encoder, pre-norm transformer, normalised waveform, attention mask
    common.update(feat_extract_norm="layer", do_stable_layer_norm=True)
    M(C(**common)).save_pretrained(out)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, do_normalize=True,
                             return_attention_mask=True).save_pretrained(out)
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True, choices=KINDS)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    a = ap.parse_args()
    print(make_tiny(a.kind, a.out, a.hidden, a.layers))
