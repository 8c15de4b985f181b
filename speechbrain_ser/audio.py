"""Audio in, as training and inference read it: any format soundfile reads, any sample
rate (resampled), channels mixed down, optionally the first ``max_seconds``. Unreadable,
empty or non-finite audio raises ``AudioError`` naming the file."""
from __future__ import annotations

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16000


class AudioError(ValueError):
    """Audio that cannot be used; the message names the file."""


def read_audio(path, sample_rate: int = 16000, max_seconds: float | None = None) -> torch.Tensor:
    """Mono float32 waveform at ``sample_rate``: first ``max_seconds`` (None = all)."""
    try:
        info = sf.info(str(path))
        frames = info.frames
        if max_seconds:  # a margin beyond the cut, so resampling sees the same context as a whole read
            frames = min(frames, int(np.ceil((max_seconds + 0.05) * info.samplerate)))
        x, sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError) as e:
        raise AudioError(f"{path}: cannot read audio ({e})") from None
    if x.size == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    if not np.isfinite(x).all():
        raise AudioError(f"{path}: audio has non-finite samples (NaN or inf)")
    wav = torch.from_numpy(x.mean(1))
    if sr != sample_rate:
        wav = AF.resample(wav, sr, sample_rate)
    if max_seconds:
        wav = wav[: int(max_seconds * sample_rate)]
    return wav


def duration(path) -> float:
    """Seconds of audio from the header (for sorting), or -1 when unreadable."""
    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate
    except (RuntimeError, sf.LibsndfileError, OSError):
        return -1.0


def pad(wavs: list) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded batch and SpeechBrain relative lengths."""
    n = max(len(w) for w in wavs)
    batch = torch.zeros(len(wavs), n)
    for i, w in enumerate(wavs):
        batch[i, : len(w)] = w
    return batch, torch.tensor([len(w) / n for w in wavs])


def load_audio(path: str, max_seconds: float | None = None) -> torch.Tensor:
    """16 kHz mono, the first ``max_seconds``: the reader training and inference share."""
    return read_audio(path, SAMPLE_RATE, max_seconds)
