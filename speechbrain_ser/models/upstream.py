"""Self-supervised / Whisper upstreams returning every layer's hidden states.

All upstreams load through SpeechBrain's ``speechbrain.integrations.huggingface``
wrappers, so ``source`` is either a hub name (``openai/whisper-large-v3``,
``microsoft/wavlm-large``) or a local directory written by ``save_pretrained``.

``WhisperUpstream`` adds what the SpeechBrain wrapper lacks for SER:

* variable-length input: the log-mel input is *not* padded to 30 s; the
  encoder's position table is cut to the input length (``pad_to_30s: False``).
  With ``pad_to_30s: True`` each utterance is padded to 30 s, as Whisper was trained,
  and only the states of its own frames are returned (up to the batch's longest);
* the convolutional front-end is always frozen; only the top ``trainable_layers``
  transformer layers get gradients (0 = frozen encoder).

Every upstream's forward returns ``(layers, batch, time, dim)``, and
``output_lengths(wav, wav_lens)`` gives each utterance's valid share of that time
axis, for the pooling. One utterance's outputs do not depend on the others in its
batch: Whisper's log-mel is computed per utterance (the wrapper's floor is the
batch's loudest frame), the padded frames are zeroed between the convolutions,
and attention masks them; SSL models normalise each waveform over its own
samples and get the padding mask (models with group-normalised feature
encoders, which see the padding whatever the mask, run one utterance at a time).
"""
from __future__ import annotations

import importlib
import torch
import torch.nn as nn
import torch.nn.functional as F
from speechbrain.integrations.huggingface.whisper import Whisper

from ..audio import sample_counts


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

    def _mel_frames(self, n: torch.Tensor) -> torch.Tensor:
        """Log-mel frames of the audio of waveforms of ``n`` samples (as ``_get_mel`` makes them
        without padding to 30 s)."""
        f = n // self._hop_length
        return torch.clamp(f + f % 2, max=self.max_frames)

    def output_lengths(self, wav, wav_lens):
        """Each utterance's share of the encoder's time axis (relative, SpeechBrain style)."""
        frames = self._mel_frames(sample_counts(wav, wav_lens))
        return frames.float() / frames.max()

    def forward_encoder(self, mel, mel_frames=None):
        enc = self.model.encoder
        frozen_front = self.trainable_layers == 0 or not self.training
        with torch.set_grad_enabled(torch.is_grad_enabled() and not frozen_front):
            x = F.gelu(enc.conv1(mel))
            if mel_frames is not None:  # what conv2 sees past the end must be its own zero padding
                x = x * (torch.arange(x.shape[-1], device=x.device) < mel_frames[:, None])[:, None, :]
            x = F.gelu(enc.conv2(x)).permute(0, 2, 1)
            x = x + enc.embed_positions.weight[: x.shape[1]]
        mask = _key_mask(x, None if mel_frames is None else mel_frames // 2)
        hiddens = [x]
        first_trainable = len(enc.layers) - self.trainable_layers
        for i, layer in enumerate(enc.layers):
            with torch.set_grad_enabled(torch.is_grad_enabled() and i >= first_trainable):
                x = layer(x, mask)
            hiddens.append(x)
        hiddens[-1] = enc.layer_norm(x)
        return torch.stack(hiddens)

    def forward_top(self, x: torch.Tensor, frames: torch.Tensor | None = None) -> torch.Tensor:
        """The trainable top layers on ``x`` (B, T, D), the hidden state entering the first of them
        (hidden state ``n_layers - 1 - trainable_layers``, as ``forward`` returns and the feature
        cache holds it); ``frames`` (B,): each utterance's valid frames. Returns their hidden states
        (trainable_layers, B, T, D), the last one layer-normed, as ``forward`` stacks them."""
        enc = self.model.encoder
        mask = _key_mask(x, frames)
        out = []
        for layer in enc.layers[len(enc.layers) - self.trainable_layers:]:
            x = layer(x, mask)
            out.append(x)
        out[-1] = enc.layer_norm(x)
        return torch.stack(out)

    def forward(self, wav, wav_lens=None):
        if not self.pad_to_30s and (wav_lens is None or wav.shape[0] == 1):
            return self.forward_encoder(self._get_mel(wav))
        n = sample_counts(wav, wav_lens)
        mels = [self._get_mel(wav[i:i + 1, : int(n[i])]) for i in range(wav.shape[0])]
        if self.pad_to_30s:  # the whole 30 s through the encoder; the frames of the audio kept
            return self.forward_encoder(torch.cat(mels))[:, :, : int(self._mel_frames(n).max()) // 2]
        frames = torch.tensor([m.shape[-1] for m in mels], device=wav.device)
        mel = torch.cat([F.pad(m, (0, int(frames.max()) - m.shape[-1])) for m in mels])
        return self.forward_encoder(mel, frames)


def _key_mask(x: torch.Tensor, frames: torch.Tensor | None):
    """Whisper's additive attention mask (B, 1, query, key) for ``x`` (B, T, D) whose utterances have
    ``frames`` valid frames each: padded keys get no attention (None: every frame valid)."""
    if frames is None:
        return None
    keys = torch.arange(x.shape[1], device=x.device)[None, :] < frames[:, None]
    mask = torch.zeros(keys.shape, dtype=x.dtype, device=x.device).masked_fill(~keys, torch.finfo(x.dtype).min)
    return mask[:, None, None, :]


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

    def train(self, mode: bool = True):
        """Frozen parts always run in eval mode (no dropout, no time masking): a frozen
        upstream gives the same features in training, evaluation and the feature cache."""
        super().train(mode)
        model = self.ssl.model
        if self.trainable_layers == 0:
            model.eval()
        else:
            for m in [model.feature_extractor, model.feature_projection]:
                m.eval()
            for layer in model.encoder.layers[: len(model.encoder.layers) - self.trainable_layers]:
                layer.eval()
        return self

    def output_lengths(self, wav, wav_lens):
        frames = self.ssl.model._get_feat_extract_output_lengths(sample_counts(wav, wav_lens))
        return frames.float() / frames.max()

    def _one_pass(self, wav, n):
        x = wav
        if self.ssl.normalize_wav:  # over each utterance's own samples, not the padded batch
            valid = torch.arange(wav.shape[1], device=wav.device)[None, :] < n[:, None]
            mean = (wav * valid).sum(1, keepdim=True) / n[:, None]
            var = (((wav - mean) * valid) ** 2).sum(1, keepdim=True) / n[:, None]
            x = ((wav - mean) / torch.sqrt(var + 1e-5)) * valid
        group_norm = self.ssl.model.config.feat_extract_norm == "group"
        mask = None if group_norm else (torch.arange(wav.shape[1], device=wav.device)[None, :] < n[:, None]).long()
        out = self.ssl.model(x, attention_mask=mask, output_hidden_states=True)
        return torch.stack(list(out.hidden_states), dim=0)

    def forward(self, wav, wav_lens=None):
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.trainable_layers > 0):
            n = sample_counts(wav, wav_lens)
            if self.ssl.model.config.feat_extract_norm == "group" and wav.shape[0] > 1 and not self.ssl.model.training:
                # the first convolution's group norm spans the whole (padded) input: one at a time
                outs = [self._one_pass(wav[i:i + 1, : int(n[i])], n[i:i + 1]) for i in range(wav.shape[0])]
                t = max(o.shape[2] for o in outs)
                return torch.cat([F.pad(o, (0, 0, 0, t - o.shape[2])) for o in outs], dim=1)
            return self._one_pass(wav, n)
