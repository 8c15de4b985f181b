"""Self-supervised / Whisper upstreams returning every layer's hidden states.

All upstreams load through SpeechBrain's ``speechbrain.integrations.huggingface``
wrappers, so ``source`` is either a hub name (``openai/whisper-large-v3``,
``microsoft/wavlm-large``) or a local directory written by ``save_pretrained``.

``WhisperUpstream`` adds what the SpeechBrain wrapper lacks for SER:

* variable-length input: the log-mel input is *not* padded to 30 s; the
  encoder's position table is cut to the input length (``pad_to_30s: False``);
* the convolutional front-end is always frozen; only the top ``trainable_layers``
  transformer layers get gradients (0 = frozen encoder).

Every upstream's forward returns ``(layers, batch, time, dim)``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from speechbrain.integrations.huggingface.whisper import Whisper


def hub_cache() -> str:
    """Where hub downloads go when the yaml gives no ``save_path``."""
    from .whisper_ct2 import cache_dir

    return str(cache_dir() / "hub")


class WhisperUpstream(Whisper):
    def __init__(self, source, save_path=None, trainable_layers=0, pad_to_30s=False,
                 sampling_rate=16000, spec_augment=None):
        super().__init__(source, save_path or hub_cache(), sampling_rate=sampling_rate, encoder_only=True,
                         freeze=False, output_all_hiddens=True)
        self.pad_to_30s = pad_to_30s
        self.spec_augment = spec_augment  # e.g. SpectrogramDrop, applied to the log-mel in training
        enc = self.model.encoder
        n_layers = len(enc.layers)
        if not 0 <= trainable_layers <= n_layers:
            raise ValueError(f"trainable_layers={trainable_layers} not in [0, {n_layers}]")
        self.trainable_layers = trainable_layers
        for p in enc.parameters():
            p.requires_grad = False
        for layer in enc.layers[n_layers - trainable_layers:]:
            for p in layer.parameters():
                p.requires_grad = True
        if trainable_layers:
            for p in enc.layer_norm.parameters():
                p.requires_grad = True
        self.n_layers = n_layers + 1  # embeddings + each transformer layer
        self.output_size = enc.config.d_model
        self.max_frames = enc.config.max_source_positions * 2

    def _get_mel(self, wav):
        if self.pad_to_30s:
            return self.log_mel_spectrogram(self.pad_or_trim(wav))
        mel = self.log_mel_spectrogram(wav)
        if self.training and self.spec_augment is not None:
            mel = self.spec_augment(mel.transpose(1, 2)).transpose(1, 2)
        # the two convolutions halve the time axis: keep an even frame count
        if mel.shape[-1] % 2:
            mel = F.pad(mel, (0, 1))
        return mel[..., : self.max_frames]

    def forward_encoder(self, mel):
        enc = self.model.encoder
        frozen_front = self.trainable_layers == 0 or not self.training
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen_front):
            x = F.gelu(enc.conv1(mel))
            x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
            x = x + enc.embed_positions.weight[: x.shape[1]]
        hiddens = [x]
        first_trainable = len(enc.layers) - self.trainable_layers
        for i, layer in enumerate(enc.layers):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= first_trainable):
                x = layer(x, None)
            hiddens.append(x)
        hiddens[-1] = enc.layer_norm(x)
        return torch.stack(hiddens)

    def forward(self, wav, wav_lens=None):
        return self.forward_encoder(self._get_mel(wav))


class SSLUpstream(nn.Module):
    """WavLM / wav2vec2 / HuBERT through SpeechBrain's wrappers, all hidden layers.

    The CNN feature extractor is frozen; ``trainable_layers`` top transformer
    layers are fine-tuned (0 = frozen).
    """

    KINDS = {"wavlm": "speechbrain.integrations.huggingface.wavlm.WavLM",
             "wav2vec2": "speechbrain.integrations.huggingface.wav2vec2.Wav2Vec2",
             "hubert": "speechbrain.integrations.huggingface.hubert.HuBERT"}

    def __init__(self, source, kind="wavlm", save_path=None, trainable_layers=0):
        super().__init__()
        import importlib

        if kind not in self.KINDS:
            raise ValueError(f"unknown upstream kind '{kind}' (have {sorted(self.KINDS)})")
        mod, cls = self.KINDS[kind].rsplit(".", 1)
        wrapper = getattr(importlib.import_module(mod), cls)
        self.ssl = wrapper(source, save_path or hub_cache(), output_norm=False, freeze=False,
                           freeze_feature_extractor=True, output_all_hiddens=True)
        model = self.ssl.model
        model.config.layerdrop = 0.0  # a fixed number of hidden states for the layer weights
        layers = model.encoder.layers
        for p in model.parameters():
            p.requires_grad = False
        for layer in layers[len(layers) - trainable_layers:] if trainable_layers else []:
            for p in layer.parameters():
                p.requires_grad = True
        self.trainable_layers = trainable_layers
        self.n_layers = len(layers) + 1
        self.output_size = model.config.hidden_size

    def forward(self, wav, wav_lens=None):
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.trainable_layers > 0):
            return self.ssl(wav, wav_lens)
