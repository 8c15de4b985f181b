"""The whole inference model (log-mel, upstream, layer weights, pooling, heads) as one ONNX graph.

    python -m speechbrain_ser.onnx_export --model exp/Multilingual16/mini/model [--int8]
    ser-predict --model exp/Multilingual16/mini/model --backend onnx my_audio/

Writes ``model.onnx`` (and ``model.int8.onnx`` with ``--int8``: onnxruntime's dynamic
int8 quantisation of the weights of MatMul/Gemm nodes) into the exported model
folder. Inputs ``wavs`` (batch, samples) float32 at the model's sample rate and
``lengths`` (batch,) int64 samples per utterance; outputs ``probs`` (batch,
classes) through the head's output function and the stored temperature, and
``attributes`` (batch, 3) on the 1-7 scale for models with attribute heads.
Batch and length are dynamic axes. File reading, mixing and resampling stay in
Python (``audio.read_audio``), as for the PyTorch model.

Whisper upstreams only (the CPU default). The graph computes each utterance's
log-mel exactly as the per-utterance PyTorch path does, vectorised: the STFT is a
strided convolution with the windowed DFT basis over each utterance's own
reflect-padded samples (what ``torch.stft(center=True)`` does per utterance), the
log floor is each utterance's own loudest frame, frames past its end are zero and
masked. ``OnnxRecognizer`` runs it with onnxruntime behind the same
``inference.Recognizer`` API as
``inference.EmotionRecognizer``; tests check both agree to < 1e-4.
"""
from __future__ import annotations

import argparse
import logging
import warnings
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml

from .inference import Recognizer
from .losses import OUTPUT_FUNCTIONS
from .speaker_norm import group_key_of


class WhisperLogMel(nn.Module):
    """Per-utterance Whisper log-mel of a padded batch, as ``WhisperUpstream._get_mel`` makes it one by one."""

    def __init__(self, upstream):
        super().__init__()
        n_fft, hop = upstream._n_fft, upstream._hop_length
        self.n_fft, self.hop, self.max_frames = n_fft, hop, upstream.max_frames
        k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
        t = torch.arange(n_fft, dtype=torch.float64)[None, :]
        window = torch.hann_window(n_fft, dtype=torch.float64)
        basis = torch.cat([torch.cos(2 * torch.pi * k * t / n_fft), -torch.sin(2 * torch.pi * k * t / n_fft)]) * window
        self.register_buffer("basis", basis.float()[:, None, :])  # (2 * bins, 1, n_fft)
        self.register_buffer("filters", upstream._mel_filters.clone())  # (mels, bins)

    def forward(self, wavs: torch.Tensor, lengths: torch.Tensor):
        half = self.n_fft // 2
        n_total = wavs.shape[1]
        # reflect padding at both ends of each utterance's own samples (torch.stft center=True)
        q = torch.arange(n_total + 2 * half, device=wavs.device)[None, :] - half  # (1, P)
        last = (lengths - 1)[:, None]
        idx = torch.where(q < 0, -q, q)
        idx = torch.where(idx > last, 2 * last - idx, idx).clamp(0, n_total - 1)
        padded = torch.gather(wavs, 1, idx.expand(wavs.shape[0], -1))
        spec = F.conv1d(padded[:, None, :], self.basis, stride=self.hop)  # (B, 2 * bins, frames)
        bins = self.basis.shape[0] // 2
        power = spec[:, :bins] ** 2 + spec[:, bins:] ** 2
        n_frames = n_total // self.hop  # stft gives 1 + n // hop frames; the last one is dropped
        power = power[:, :, :n_frames]
        log = torch.clamp(torch.matmul(self.filters, power), min=1e-10).log10()  # (B, mels, T)
        own = lengths // self.hop  # each utterance's frames
        valid = torch.arange(n_frames, device=wavs.device)[None, :] < own[:, None]  # (B, T)
        top = torch.where(valid[:, None, :], log, torch.full_like(log, -1e30)).amax(dim=(1, 2), keepdim=True)
        log = (torch.maximum(log, top - 8.0) + 4.0) / 4.0
        log = torch.where(valid[:, None, :], log, torch.zeros_like(log))
        log = F.pad(log, (0, n_frames % 2))  # an even frame count, the added frame zero
        mel_frames = torch.clamp(own + own % 2, max=self.max_frames)
        return log[..., : self.max_frames], mel_frames


class InferenceGraph(nn.Module):
    """wavs (B, N), lengths (B,) samples → probs (B, C) [, attributes (B, 3)]."""

    def __init__(self, model):
        super().__init__()
        from .models.upstream import WhisperUpstream

        mods = model.mods
        if not isinstance(mods.upstream, WhisperUpstream) or mods.upstream.pad_to_30s:
            raise NotImplementedError("ONNX export covers Whisper upstreams with variable-length input "
                                      f"(this model's upstream: {type(mods.upstream).__name__})")
        if model.needs_transcript:
            raise NotImplementedError("ONNX export covers speech-only models (this one fuses a transcript)")
        self.mel = WhisperLogMel(mods.upstream)
        self.upstream, self.layer_sum, self.pooler = mods.upstream, mods.layer_sum, mods.pooler
        # speaker-normalised models: the graph normalises with the training statistics (no speaker groups)
        self.speaker_norm_layer = model.normalizer.layer if model.normalizer is not None else None
        self.head = mods["head"] if "head" in mods else None
        self.avd = mods["avd_heads"] if "avd_heads" in mods else None
        self.head_output = model.head_output
        self.temperature = model.temperature if self.head_output == "softmax" else 1.0
        self.scale = list(model.hparams.attribute_scale)

    def forward(self, wavs, lengths):
        mel, mel_frames = self.mel(wavs, lengths)
        hiddens = self.upstream.forward_encoder(mel, mel_frames)
        stats = self.speaker_norm_layer(None, wavs.shape[0]) if self.speaker_norm_layer is not None else None
        summed = self.layer_sum(hiddens, speaker_stats=stats)
        emb = self.pooler(summed, mel_frames.float() / mel_frames.max())
        out = []
        if self.head is not None:
            out.append(OUTPUT_FUNCTIONS[self.head_output](self.head(emb) / self.temperature))
        if self.avd is not None:
            lo, hi = self.scale
            out.append(lo + (hi - lo) * self.avd(emb))
        return tuple(out)


PROTOBUF_LIMIT = 2 * 2**30  # bytes: one ONNX file (a protobuf message) holds at most 2 GiB


def export_onnx(model_dir, int8: bool = False, opset: int = 18) -> list:
    """Write ``model.onnx`` (and ``model.int8.onnx``) into ``model_dir``; returns the paths written.
    A graph whose float32 weights, with a margin for the rest of the message, are over protobuf's
    2 GiB (Whisper medium and large) is refused with ``NotImplementedError`` before anything runs."""
    from .inference import load

    model_dir = Path(model_dir)
    model = load(model_dir, device="cpu")
    graph = InferenceGraph(model).eval()
    weights = sum(t.numel() * 4 for t in [*graph.parameters(), *graph.buffers()])
    if weights > 0.9 * PROTOBUF_LIMIT:
        raise NotImplementedError(f"the graph's float32 weights are {weights / 2**30:.2f} GiB, over what one ONNX "
                                  f"file holds (protobuf's 2 GiB); use the PyTorch backend for this model")
    names = (["probs"] if graph.head is not None else []) + (["attributes"] if graph.avd is not None else [])
    wavs = torch.randn(2, 3 * model.sample_rate) * 0.1
    lengths = torch.tensor([3 * model.sample_rate, 2 * model.sample_rate], dtype=torch.long)
    out = model_dir / "model.onnx"
    tmp = out.with_name(".model.onnx.tmp")
    q, qtmp = model_dir / "model.int8.onnx", model_dir / ".model.int8.onnx.tmp"
    try:  # the graphs are written as temporary files and renamed; a failure (a full disk) leaves neither
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on Python values (checked: batch and length stay dynamic)
            torch.onnx.export(graph, (wavs, lengths), str(tmp), input_names=["wavs", "lengths"], output_names=names,
                              dynamic_axes={"wavs": {0: "batch", 1: "samples"}, "lengths": {0: "batch"},
                                            **{n: {0: "batch"} for n in names}},
                              opset_version=opset, dynamo=False)
        import onnx

        proto = onnx.load(str(tmp))  # which temperature the graph holds: a later refit makes it stale
        onnx.helper.set_model_props(proto, {"temperature": repr(float(graph.temperature)),
                                            "speechbrain_ser_graph": "InferenceGraph"})
        onnx.save(proto, str(tmp))
        tmp.replace(out)
        written = [out]
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # its per-tensor notes on nodes it leaves in float
            try:
                quantize_dynamic(str(out), str(qtmp), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            qtmp.replace(q)
            written.append(q)
    finally:
        for t in (tmp, qtmp):
            t.unlink(missing_ok=True)
    return written


NO_GROUPS = ("the ONNX graph normalises with the training statistics only: speaker groups need the "
             "PyTorch backend (--backend torch)")


class OnnxRecognizer(Recognizer):
    """``inference.Recognizer`` on onnxruntime (CPU)."""

    def __init__(self, model_dir, int8: bool = False, threads: int | None = None):
        import onnxruntime as ort

        model_dir = Path(model_dir)
        path = model_dir / ("model.int8.onnx" if int8 else "model.onnx")
        if not path.exists():
            raise FileNotFoundError(f"{path}: no ONNX export; run python -m speechbrain_ser.onnx_export "
                                    f"--model {model_dir}{' --int8' if int8 else ''}")
        hp = yaml.load((model_dir / "hyperparams.yaml").read_text(), Loader=_PlainLoader)
        self.classes, self.attributes = list(hp["classes"] or []), list(hp["attributes"] or [])
        self.sample_rate, self.max_seconds = int(hp["sample_rate"]), hp.get("max_seconds")
        self.trim_db, self.level_db = hp.get("trim_db"), hp.get("level_db")
        self.head_output = hp["head_output"]
        # a speaker-normalised model: the graph holds its training statistics (a file alone); groups need torch
        self.speaker_norm_group = group_key_of(hp)
        self.speaker_normalised = self.speaker_norm_group is not None
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]
        built = float(self.session.get_modelmeta().custom_metadata_map.get("temperature", "nan"))
        want = float(hp.get("temperature") or 1.0) if hp["head_output"] == "softmax" else 1.0
        if not abs(built - want) <= 1e-9:
            raise RuntimeError(f"{path} holds temperature {built}, {model_dir / 'hyperparams.yaml'} has {want}: "
                               f"re-export with python -m speechbrain_ser.onnx_export --model {model_dir}")

    def forward_batch(self, wavs: torch.Tensor, wav_lens: torch.Tensor | None = None, texts=None,
                      speaker_stats=None) -> dict:
        if speaker_stats is not None:
            raise NotImplementedError(NO_GROUPS)
        n = wavs.shape[1]
        lens = torch.ones(wavs.shape[0]) if wav_lens is None else wav_lens
        samples = torch.round(lens * n).long().clamp(1, n)
        res = dict(zip(self.outputs, self.session.run(None, {"wavs": wavs.float().numpy(),
                                                              "lengths": samples.numpy()})))
        return {"probs": torch.from_numpy(res["probs"]) if "probs" in res else None,
                "attributes": torch.from_numpy(res["attributes"]) if "attributes" in res else None}

    def states(self, path, hidden=None):
        raise NotImplementedError(NO_GROUPS)


class _PlainLoader(yaml.SafeLoader):
    """yaml loader for the exported hyperparams.yaml's plain keys (HyperPyYAML tags left as None)."""


_PlainLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.onnx_export", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="an exported model folder (stage 4's <exp>/model)")
    ap.add_argument("--int8", action="store_true", help="also write model.int8.onnx (dynamic int8 quantisation)")
    a = ap.parse_args(argv)
    for p in export_onnx(a.model, a.int8):
        print(f"onnx_export: wrote {p} ({p.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
