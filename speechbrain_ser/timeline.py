"""Emotion over time: an exported model applied to sliding windows of long audio.

    from speechbrain_ser.inference import load
    model = load("exp/Multilingual16/mini/model")
    tl = model.predict_timeline("meeting.wav", window=3.0, hop=1.0, min_segment=2.0)
    tl["windows"]    # [{'start': 0.0, 'end': 3.0, 'label': 'neutral', 'probs': {...}, 'arousal': 3.9, ...}, ...]
    tl["segments"]   # [{'start': 0.0, 'end': 5.0, 'emotion': 'neutral', 'confidence': 0.71}, ...]
    plot_timeline(tl, "meeting.png")

* Windows: ``window`` seconds every ``hop`` seconds from 0; when the last one
  stops short of the end, one more window ends exactly at the end of the file,
  so every sample is covered. A file shorter than ``window`` is one window.
* Streaming: the file is read in blocks with soundfile, one block per batch of
  ``batch_size`` windows (plus a 50 ms margin for the resampler), mixed to mono
  and resampled to the model's rate; memory is bounded by the batch, not by the
  file. Blocks start on frames where the file's and the model's sample grids
  coincide, so a window's samples are those of the whole-file resampling (up to
  the resampling filter's edge effects in the margin).
* A model trained on silence-trimmed audio (``trim_db``) hears a file as training did:
  the windows cover its speech (``audio.speech_span``: leading and trailing silence
  cut), with times still counted from the start of the file.
* Each window is one utterance for the model (batch-invariant, as in
  ``inference``), calibrated like ``predict_file``.
* Segments: the time axis is cut at every window start and end; each piece
  ("cell") gets the mean of the probabilities of the windows covering it and
  the argmax of that mean (over ``classes`` only, when given: class restriction
  as in zero-shot scoring). Adjacent cells of one emotion are merged; then, while
  a segment is shorter than ``min_segment`` seconds, the shortest one is merged
  into the neighbour whose emotion has the higher mean probability over it.
  ``confidence`` is the time-weighted mean probability of the segment's emotion.
  Boundaries therefore fall on window starts/ends (a ``hop`` grid).
* Scoring against reference segments (``score_timeline``): time-weighted frame
  accuracy (share of the reference's duration whose predicted emotion equals
  the reference emotion, computed on exact interval overlaps) and segment
  precision/recall/F1: a predicted segment matches a reference segment of the
  same emotion when its start and its end are each within ``tolerance``
  seconds of the reference's; one-to-one matching.
"""
from __future__ import annotations

import math

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from .audio import AudioError, set_level, speech_span
from .class_scores import distribution
from .datasets import pad_right
from .speaker_norm import SpeakerNormalizer
from .stage import save_figure_atomic

MARGIN_SECONDS = 0.05
DEFINITIONS = {
    "frame_accuracy": "time-weighted frame accuracy: share of the reference duration whose predicted "
                      "emotion equals the reference emotion (exact interval overlaps)",
    "segment_f1": "segment F1: a predicted segment matches a reference segment of the same emotion when "
                  "its start and end are each within the tolerance of the reference's (one-to-one); "
                  "precision = matches / predicted segments, recall = matches / reference segments",
    "order_correct": "share of files whose sequence of predicted segment emotions equals the reference sequence",
}


def window_starts(n: int, win: int, hop: int) -> list:
    """Start samples of the windows over ``n`` samples (see the module docstring)."""
    if n <= win:
        return [0]
    starts = list(range(0, n - win + 1, hop))
    if starts[-1] + win < n:
        starts.append(n - win)
    return starts


def stream_windows(path, sample_rate: int, window: float, hop: float, batch_size: int = 16, span=None):
    """Yield (starts, wavs) per batch: window starts (model samples) and a list of 1-D tensors.
    ``span`` (start, end) in seconds: the windows cover that part of the file only (a model trained
    on silence-trimmed audio: ``audio.speech_span``); None = the whole file."""

    try:
        f = sf.SoundFile(str(path))
    except (RuntimeError, sf.LibsndfileError, OSError) as e:
        raise AudioError(f"{path}: cannot read audio ({e})") from None
    with f:
        sr, frames = f.samplerate, f.frames
        if frames <= 0:
            raise AudioError(f"{path}: empty audio (0 samples)")
        g = math.gcd(sr, sample_rate)
        unit_in, unit_out = sr // g, sample_rate // g  # unit_in frames of the file = unit_out model samples
        n = frames * sample_rate // sr
        lo, hi = (0, n) if span is None else (max(0, round(span[0] * sample_rate)), min(n, round(span[1] * sample_rate)))
        win, step = round(window * sample_rate), round(hop * sample_rate)
        starts = [lo + s for s in window_starts(hi - lo, win, step)]
        margin = math.ceil(MARGIN_SECONDS * sample_rate / unit_out)  # in grid units
        for b in range(0, len(starts), batch_size):
            ss = starts[b:b + batch_size]
            u0 = max(0, ss[0] // unit_out - margin)
            u1 = min(math.ceil(frames / unit_in), math.ceil((ss[-1] + win) / unit_out) + margin)
            f.seek(u0 * unit_in)
            x = f.read(min(frames, u1 * unit_in) - u0 * unit_in, dtype="float32", always_2d=True)
            if not np.isfinite(x).all():
                raise AudioError(f"{path}: audio has non-finite samples (NaN or inf) after "
                                 f"{u0 * unit_in / sr:.2f} s")
            wav = torch.from_numpy(x.mean(1))
            if sr != sample_rate:
                wav = AF.resample(wav, sr, sample_rate)
            off = u0 * unit_out
            yield ss, [wav[s - off: min(s + win, hi) - off] for s in ss]


def cells(starts: np.ndarray, ends: np.ndarray, values: np.ndarray):
    """(edges (K+1,), mean of ``values`` (W, D) over the windows covering each of the K cells)."""
    edges = np.unique(np.concatenate([starts, ends]))
    lo, hi = edges[:-1], edges[1:]
    # windows covering [lo, hi): start <= lo and end >= hi; starts and ends are both sorted
    first = np.searchsorted(ends, hi, side="left")
    last = np.searchsorted(starts, lo, side="right")
    csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, 0)])
    count = (last - first)[:, None]
    return edges, (csum[last] - csum[first]) / count


def merge_segments(edges: np.ndarray, probs: np.ndarray, classes: list, allowed=None,
                   min_segment: float = 0.0) -> list:
    """Segments {start, end, emotion, confidence} from cell probabilities (see the module docstring)."""
    allowed = list(range(len(classes))) if allowed is None else list(allowed)
    masked = np.full_like(probs, -np.inf)
    masked[:, allowed] = probs[:, allowed]
    labels = masked.argmax(1)
    dur = np.diff(edges)
    segs = []  # [first cell, last cell + 1, class]
    for k, c in enumerate(labels):
        if segs and segs[-1][2] == c:
            segs[-1][1] = k + 1
        else:
            segs.append([k, k + 1, int(c)])

    def mean_prob(seg, c):
        w = dur[seg[0]:seg[1]]
        return float((probs[seg[0]:seg[1], c] * w).sum() / w.sum())

    def length(seg):
        return edges[seg[1]] - edges[seg[0]]

    while len(segs) > 1:
        k = min(range(len(segs)), key=lambda i: length(segs[i]))
        if length(segs[k]) >= min_segment - 1e-9:
            break
        nbrs = [j for j in (k - 1, k + 1) if 0 <= j < len(segs)]
        j = max(nbrs, key=lambda j: mean_prob(segs[k], segs[j][2]))
        lo, hi = min(segs[j][0], segs[k][0]), max(segs[j][1], segs[k][1])
        segs[j][0], segs[j][1] = lo, hi
        del segs[k]
        merged = []  # a short segment between two of one emotion joins them
        for s in segs:
            if merged and merged[-1][2] == s[2]:
                merged[-1][1] = s[1]
            else:
                merged.append(s)
        segs = merged
    return [dict(start=round(float(edges[a]), 3), end=round(float(edges[b]), 3), emotion=classes[c],
                 confidence=round(mean_prob([a, b], c), 4)) for a, b, c in segs]


def predict_timeline(model, path, window: float = 3.0, hop: float = 1.0, min_segment: float = 2.0,
                     batch_size: int = 16, classes: list | None = None, speaker_stats=None) -> dict:
    """{'path', 'duration', 'window', 'hop', 'windows': [...], 'segments': [...] or []}; see the module docstring.
    ``speaker_stats`` (2, L, D): the speaker statistics every window is normalised with (speaker-normalised
    models, ``speaker_norm.py``; None = the training statistics).

    ``model``: an ``inference.Recognizer`` (the PyTorch model, the ONNX backend). ``classes``: restrict
    the segment emotions to these class names (window rows keep every class's probability).
    """

    if not 0 < hop <= window:
        raise ValueError(f"want 0 < hop <= window (got window {window} s, hop {hop} s)")
    max_seconds = model.max_seconds
    if max_seconds and window > max_seconds + 1e-9:
        raise ValueError(f"window {window} s is longer than the {max_seconds} s the model was trained on")
    model.check_classes(classes)
    sr = model.sample_rate
    rows, probs = [], []
    level_db, trim_db = model.level_db, model.trim_db
    span = speech_span(path, trim_db) if trim_db is not None else None  # heard as training heard it
    for starts, wavs in stream_windows(path, sr, window, hop, batch_size, span):
        if level_db is not None:  # a model trained on level-set speech hears each window so (audio.set_level)
            wavs = [torch.from_numpy(set_level(w.numpy(), sr, level_db, trim_db))
                    for w in wavs]
        batch, lens = pad_right(wavs)
        named = model.predict_batch(batch, lens, None, SpeakerNormalizer.repeat(speaker_stats, batch.shape[0]))
        for s, w, r in zip(starts, wavs, named):
            rows.append({"start": round(s / sr, 3), "end": round((s + len(w)) / sr, 3), **r})
            if "probs" in r:
                probs.append([r["probs"][c] for c in model.classes])
    result = {"path": str(path), "duration": rows[-1]["end"], "window": window, "hop": hop,
              "head_output": model.head_output,
              "windows": rows, "segments": []}
    if probs:
        starts = np.array([r["start"] for r in rows])
        ends = np.array([r["end"] for r in rows])
        edges, p = cells(starts, ends, np.array(probs))
        allowed = [model.classes.index(c) for c in classes] if classes else None
        result["segments"] = merge_segments(edges, p, model.classes, allowed, min_segment)
    return result


# ---- scoring against reference segments -------------------------------------------
def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score_timeline(pred: list, ref: list, tolerance: float) -> dict:
    """Frame accuracy, segment precision/recall/F1 (``tolerance`` s on both boundaries), order."""
    total = sum(r["end"] - r["start"] for r in ref)
    agree = sum(_overlap(p["start"], p["end"], r["start"], r["end"])
                for p in pred for r in ref if p["emotion"] == r["emotion"])
    used, matches = set(), 0
    for r in ref:
        for j, p in enumerate(pred):
            if j not in used and p["emotion"] == r["emotion"] and abs(p["start"] - r["start"]) <= tolerance \
                    and abs(p["end"] - r["end"]) <= tolerance:
                used.add(j)
                matches += 1
                break
    precision = matches / len(pred) if pred else 0.0
    recall = matches / len(ref) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if matches else 0.0
    return dict(seconds=total, frame_accuracy=agree / total if total else 0.0, matches=matches,
                n_pred=len(pred), n_ref=len(ref), precision=precision, recall=recall, f1=f1,
                order_correct=[p["emotion"] for p in pred] == [r["emotion"] for r in ref])


def aggregate(scores: list) -> dict:
    """Pooled over files: frame accuracy weighted by duration, segment P/R/F1 from summed counts."""
    secs = sum(s["seconds"] for s in scores)
    m, n_pred, n_ref = (sum(s[k] for s in scores) for k in ("matches", "n_pred", "n_ref"))
    p, r = (m / n_pred if n_pred else 0.0), (m / n_ref if n_ref else 0.0)
    return dict(files=len(scores), seconds=round(secs, 2),
                frame_accuracy=sum(s["frame_accuracy"] * s["seconds"] for s in scores) / secs,
                segment_precision=p, segment_recall=r, segment_f1=2 * p * r / (p + r) if m else 0.0,
                order_correct=float(np.mean([s["order_correct"] for s in scores])))


def single_label_accuracy(ref: list) -> float:
    """Frame accuracy of the best single label for the whole file (an upper bound for any system
    that gives one label per file): the largest share of the file's duration one emotion has."""
    total, share = 0.0, {}
    for r in ref:
        share[r["emotion"]] = share.get(r["emotion"], 0.0) + r["end"] - r["start"]
        total += r["end"] - r["start"]
    return max(share.values()) / total


# ---- output ----------------------------------------------------------------------------
def plot_timeline(tl: dict, path, classes: list | None = None, attributes: list | None = None,
                  reference: list | None = None, title: str | None = None):
    """PNG: class probabilities stacked over time (per cell), the merged segments (and the reference
    segments when given) as labelled bars above them, arousal/valence/dominance curves below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = tl["windows"]
    classes = classes if classes is not None else list(rows[0].get("probs", {}))
    attributes = attributes if attributes is not None else [a for a in ("arousal", "valence", "dominance")
                                                            if a in rows[0]]
    starts, ends = np.array([r["start"] for r in rows]), np.array([r["end"] for r in rows])
    colours = {c: plt.cm.tab10(i % 10) for i, c in enumerate(classes)}
    strips = [("model", tl["segments"])] + ([("reference", reference)] if reference else [])
    heights = [0.35 * len(strips)] + ([3.0] if classes else []) + ([1.6] if attributes else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(10, sum(heights) + 1.2), sharex=True,
                             gridspec_kw=dict(height_ratios=heights), squeeze=False)
    axes = axes[:, 0]
    ax = axes[0]
    for y, (name, segs) in enumerate(reversed(strips)):
        for s in segs:
            ax.broken_barh([(s["start"], s["end"] - s["start"])], (y + 0.1, 0.8),
                           facecolors=colours.get(s["emotion"], "grey"), edgecolor="k", linewidth=0.5)
            ax.text((s["start"] + s["end"]) / 2, y + 0.5, s["emotion"], ha="center", va="center", fontsize=7)
    ax.set_yticks([y + 0.5 for y in range(len(strips))], [n for n, _ in reversed(strips)], fontsize=8)
    ax.set_ylim(0, len(strips))
    ax.set_title(title or tl["path"], fontsize=9)
    k = 1
    if classes:
        edges, p = cells(starts, ends, np.array([[r["probs"][c] for c in classes] for r in rows]))
        p = distribution(p, tl.get("head_output", "softmax"))  # sigmoid / MSE heads: class_scores
        x = np.repeat(edges, 2)[1:-1]
        ax = axes[k]
        ax.stackplot(x, np.repeat(p, 2, axis=0).T, labels=classes, colors=[colours[c] for c in classes])
        for s in tl["segments"][1:]:
            ax.axvline(s["start"], color="k", lw=1, ls="--")
        ax.set_ylim(0, 1)
        ax.set_ylabel("probability\n(mean of windows)", fontsize=8)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        k += 1
    if attributes:
        ax = axes[k]
        mid = (starts + ends) / 2
        for a in attributes:
            ax.plot(mid, [r[a] for r in rows], label=a, marker=".", ms=3)
        ax.set_ylim(1, 7)
        ax.set_ylabel("1-7 scale", fontsize=8)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xlabel(f"time (s); windows of {tl['window']} s every {tl['hop']} s")
    axes[-1].set_xlim(0, tl["duration"])
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
