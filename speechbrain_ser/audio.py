"""Audio in, as training and inference read it: any format soundfile reads, any sample
rate (resampled), channels mixed down, optionally the first ``max_seconds``. Unreadable,
empty or non-finite audio raises ``AudioError`` naming the file.

Two optional steps for real recordings (hparams ``trim_db`` and ``level_db``, stored in
an exported model so that inference reads audio as training did):

* ``trim_db``: leading and trailing silence is cut. Frames of 25 ms every 10 ms;
  speech runs from the first to the last frame whose RMS is within ``trim_db`` dB of
  the loudest frame, plus 0.1 s either side (acted corpora such as RAVDESS hold ~1 s
  of silence before and after each sentence, which a short crop would spend on
  nothing and which differs between corpora).
* ``level_db``: the utterance is scaled so that the RMS of those speech frames is
  ``level_db`` dBFS (the peak kept under 0 dBFS): recording level is a property of
  the studio, not of the emotion, and differs by ~20 dB between corpora.

Both happen before the ``max_seconds`` crop. A file longer than the crop is heard the same way
by inference: its windows cover the trimmed speech (``speech_span``), not the silence around it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16000


class AudioError(ValueError):
    """Audio that cannot be used; the message names the file."""


FRAME, HOP, MARGIN = 0.025, 0.010, 0.1
MAX_GAIN_DB = 40.0  # level setting never amplifies by more (a near-silent window stays near-silent)


def frame_rms_db(x: np.ndarray, sr: int) -> np.ndarray:
    """RMS in dB of frames of ``FRAME`` s every ``HOP`` s (the last partial frame included)."""
    n, h = max(1, int(FRAME * sr)), max(1, int(HOP * sr))
    starts = np.arange(0, max(len(x) - n, 0) + 1, h)
    if starts[-1] + n < len(x):
        starts = np.append(starts, len(x) - n if len(x) >= n else 0)
    sq = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    ends = np.minimum(starts + n, len(x))
    ms = (sq[ends] - sq[starts]) / np.maximum(ends - starts, 1)
    return 10 * np.log10(np.maximum(ms, 1e-20))


def speech_region(x: np.ndarray, sr: int, trim_db: float) -> tuple[int, int]:
    """(start, end) samples of the speech in ``x``: see the module docstring (``trim_db``)."""
    db = frame_rms_db(x, sr)
    active = np.flatnonzero(db >= db.max() - trim_db)
    h, n, m = int(HOP * sr), int(FRAME * sr), int(MARGIN * sr)
    return max(0, active[0] * h - m), min(len(x), active[-1] * h + n + m)


def set_level(x: np.ndarray, sr: int, level_db: float, trim_db: float | None = None) -> np.ndarray:
    """``x`` scaled so that its speech frames (within ``trim_db``, default 40 dB, of the loudest)
    have an RMS of ``level_db`` dBFS, the gain limited so that the peak stays below 1 and to
    ``MAX_GAIN_DB``."""
    db = frame_rms_db(x, sr)
    speech = db[db >= db.max() - (trim_db if trim_db is not None else 40.0)]
    rms_db = 10 * np.log10(np.mean(10 ** (speech / 10)))
    peak = float(np.abs(x).max())
    if peak == 0:
        return x
    gain = min(10 ** ((level_db - rms_db) / 20), 0.99 / peak, 10 ** (MAX_GAIN_DB / 20))
    return (x * gain).astype(np.float32)


def _read(path, seconds: float | None = None) -> tuple[np.ndarray, int]:
    """(samples (N, channels) float32, sample rate): the first ``seconds`` (None = all), never empty."""
    try:
        frames = -1
        if seconds:
            info = sf.info(str(path))
            frames = min(info.frames, int(np.ceil(seconds * info.samplerate)))
        x, sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError) as e:
        raise AudioError(f"{path}: cannot read audio ({e})") from None
    if x.size == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    return x, sr


def read_audio(path, sample_rate: int = 16000, max_seconds: float | None = None,
               trim_db: float | None = None, level_db: float | None = None) -> torch.Tensor:
    """Mono float32 waveform at ``sample_rate``: silence trimmed (``trim_db``), level set
    (``level_db``), then the first ``max_seconds`` (None = all)."""
    if not Path(path).is_file():
        raise AudioError(f"{path}: no such file" if not Path(path).exists() else f"{path}: not a file")
    # a margin beyond the cut, so resampling sees the same context
    x, sr = _read(path, max_seconds + 0.05 if max_seconds and trim_db is None else None)
    if not np.isfinite(x).all():
        raise AudioError(f"{path}: audio has non-finite samples (NaN or inf)")
    x = x.mean(1)
    if trim_db is not None:
        a, b = speech_region(x, sr, trim_db)
        x = x[a:b]
    if level_db is not None:
        x = set_level(x, sr, level_db, trim_db)
    wav = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if sr != sample_rate:
        wav = AF.resample(wav, sr, sample_rate)
    if max_seconds:
        wav = wav[: int(max_seconds * sample_rate)]
    return wav


def speech_span(path, trim_db: float) -> tuple[float, float]:
    """(start, end) in seconds of the speech in a file as ``read_audio`` trims it (``trim_db``):
    where a model trained on trimmed audio hears a long file (``inference``, ``timeline``)."""
    x, sr = _read(path)
    a, b = speech_region(x.mean(1), sr, trim_db)
    return a / sr, b / sr


def duration(path) -> float:
    """Seconds of audio from the header (for sorting), or -1 when unreadable."""
    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate
    except (RuntimeError, sf.LibsndfileError, OSError):
        return -1.0


def load_audio(path: str, max_seconds: float | None = None, trim_db: float | None = None,
               level_db: float | None = None) -> torch.Tensor:
    """16 kHz mono: the reader training and inference share (``read_audio``)."""
    return read_audio(path, SAMPLE_RATE, max_seconds, trim_db, level_db)


def sample_counts(wav: torch.Tensor, rel_lens: torch.Tensor | None) -> torch.Tensor:
    """Samples per utterance of a padded batch ``wav`` (B, T) from SpeechBrain's relative lengths
    (every sample when None), at least 1."""
    from speechbrain.dataio.dataio import relative_time_to_absolute

    if rel_lens is None:
        return torch.full((wav.shape[0],), wav.shape[1], dtype=torch.long, device=wav.device)
    return relative_time_to_absolute(wav, rel_lens, 1).long().clamp(1, wav.shape[1])
