"""Emotion over time: windows, cell averaging, segment merging, scoring, streaming, emotion-shift files."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio.functional as AF
from scipy.signal import correlate

from speechbrain_ser.audio import AudioError, read_audio
from speechbrain_ser.inference import Recognizer
from speechbrain_ser.emotion_shift import make_shift_set
from speechbrain_ser.timeline import (aggregate, cells, merge_segments, predict_timeline, score_timeline,
                                      single_label_accuracy, stream_windows, window_starts)

SR = 16000


def test_window_starts_and_cell_means_hand_computed():
    assert window_starts(88000, 48000, 16000) == [0, 16000, 32000, 40000]  # 5.5 s: tail window ends at the end
    assert window_starts(80000, 48000, 16000) == [0, 16000, 32000]  # 5 s: no tail needed
    assert window_starts(48000, 48000, 16000) == [0]
    assert window_starts(30000, 48000, 16000) == [0]  # shorter than a window: one window
    edges, mean = cells(np.array([0., 1, 2]), np.array([3., 4, 5]), np.array([[1.], [2.], [4.]]))
    assert edges.tolist() == [0, 1, 2, 3, 4, 5]
    np.testing.assert_allclose(mean[:, 0], [1, 1.5, 7 / 3, 3, 4])


def test_merge_segments_hand_examples():
    # runs a[0,2] b[2,3] a[3,4] b[4,6]; min 2 s: b[2,3] (shortest, first) joins an a neighbour, the a's fuse
    edges = np.arange(7.0)
    p = np.array([[.9, .1], [.8, .2], [.4, .6], [.7, .3], [.1, .9], [.1, .9]])
    assert merge_segments(edges, p, ["a", "b"], min_segment=2.0) == [
        dict(start=0.0, end=4.0, emotion="a", confidence=0.7), dict(start=4.0, end=6.0, emotion="b", confidence=0.9)]
    assert [s["emotion"] for s in merge_segments(edges, p, ["a", "b"], min_segment=0.0)] == ["a", "b", "a", "b"]
    # a short c between a and b goes to the neighbour whose emotion is more probable over it (b: 0.3 > a: 0.2)
    edges = np.array([0.0, 2, 3, 5])
    p = np.array([[.9, .05, .05], [.2, .3, .5], [.05, .9, .05]])
    assert merge_segments(edges, p, ["a", "b", "c"], min_segment=1.5) == [
        dict(start=0.0, end=2.0, emotion="a", confidence=0.9), dict(start=2.0, end=5.0, emotion="b", confidence=0.7)]
    # class restriction: c may not be answered, so the middle cell is b
    assert [s["emotion"] for s in merge_segments(edges, p, ["a", "b", "c"], allowed=[0, 1])] == ["a", "b"]


def test_score_timeline_hand_computed():
    ref = [dict(start=0, end=4, emotion="a"), dict(start=4, end=10, emotion="b")]
    s = score_timeline([dict(start=0, end=5, emotion="a"), dict(start=5, end=10, emotion="b")], ref, 1.0)
    assert s["frame_accuracy"] == pytest.approx(0.9) and s["f1"] == 1.0 and s["order_correct"]
    s = score_timeline([dict(start=0, end=5, emotion="a"), dict(start=5, end=10, emotion="b")], ref, 0.5)
    assert s["f1"] == 0.0 and s["matches"] == 0
    pred = [dict(start=0, end=3, emotion="a"), dict(start=3, end=4, emotion="c"), dict(start=4, end=10, emotion="b")]
    s = score_timeline(pred, ref, 1.0)
    assert s["frame_accuracy"] == pytest.approx(0.9) and s["precision"] == pytest.approx(2 / 3)
    assert s["recall"] == 1.0 and s["f1"] == pytest.approx(0.8) and not s["order_correct"]
    agg = aggregate([dict(seconds=10, frame_accuracy=.9, matches=2, n_pred=3, n_ref=2, order_correct=True),
                     dict(seconds=30, frame_accuracy=.5, matches=0, n_pred=1, n_ref=3, order_correct=False)])
    assert agg["frame_accuracy"] == pytest.approx(0.6) and agg["segment_precision"] == pytest.approx(0.5)
    assert agg["segment_recall"] == pytest.approx(0.4) and agg["segment_f1"] == pytest.approx(4 / 9)
    assert agg["order_correct"] == 0.5
    assert single_label_accuracy([dict(start=0, end=4, emotion="a"), dict(start=4, end=10, emotion="b"),
                                  dict(start=10, end=12, emotion="a")]) == pytest.approx(0.5)


class Oracle(Recognizer):
    """A model that is right about every sample: it finds where its window lies in the shift file (minimum
    squared difference) and answers the share of the window each reference emotion has. The timeline code
    under test must hand it the right samples and turn its answers into the right segments."""

    attributes, sample_rate, max_seconds = [], SR, None

    def __init__(self, signal, segments, classes):
        self.x, self.segments, self.classes = signal, segments, classes
        self.energy = np.concatenate([[0.0], np.cumsum(signal.astype(np.float64) ** 2)])
        self.fits = []  # per window: squared difference to the file at every offset, window energy

    def locate(self, w):
        n = len(w)
        corr = correlate(self.x, w, mode="valid", method="fft")
        dist = self.energy[n:] - self.energy[:-n] - 2 * corr
        self.fits.append((dist, float((w ** 2).sum())))
        return int(np.argmin(dist))

    def forward_batch(self, wavs, lens=None, texts=None, speaker_stats=None):
        out = []
        for w, rel in zip(wavs, lens):
            w = w[: int(round(float(rel) * wavs.shape[1]))].numpy().astype(np.float64)
            t0 = self.locate(w) / SR
            t1 = t0 + len(w) / SR
            share = np.zeros(len(self.classes))
            for s in self.segments:
                share[self.classes.index(s["emotion"])] += max(0.0, min(t1, s["end"]) - max(t0, s["start"]))
            out.append(share / share.sum())
        return {"probs": torch.tensor(np.array(out)), "attributes": None}


@pytest.fixture(scope="module")
def shift_files(tiny_root, tmp_path_factory):
    """Emotion-shift files from the tiny CREMA-D utterances (neutral, anger, sadness of one speaker)."""
    code = {"NEU": "neutral", "ANG": "anger", "SAD": "sadness"}
    entries = {}
    for p in sorted((tiny_root / "CREMA-D" / "AudioWAV").glob("*.wav")):
        spk, _, emo, _ = p.stem.split("_")
        if emo in code:
            entries[p.stem] = dict(wav=str(p), corpus="crema_d", language="en", speaker=spk, hard=code[emo])
    out = tmp_path_factory.mktemp("shift")
    return make_shift_set(entries, tiny_root, out, per_corpus=3, seed=1), entries


def test_shift_generator_writes_what_its_reference_says(shift_files):
    ref, entries = shift_files
    assert len(ref) == 3
    for fid, r in ref.items():
        x, sr = sf.read(r["wav"])
        assert sr == SR and len(x) / SR == pytest.approx(r["seconds"], abs=1 / SR)
        segs = r["segments"]
        assert len(segs) == 3 and len({s["emotion"] for s in segs}) == 3
        assert segs[0]["start"] == 0 and segs[-1]["end"] == r["seconds"]
        assert all(a["end"] == b["start"] for a, b in zip(segs, segs[1:]))
        assert all(4.0 <= s["end"] - s["start"] <= 6.0 for s in segs)
        # every source utterance is of the speaker, and the first one opens the file sample for sample
        assert {entries[u]["speaker"] for u in r["sources"]} == {r["speaker"]}
        first = read_audio(entries[r["sources"][0]]["wav"]).numpy()
        n = min(len(first), int(segs[0]["end"] * SR))
        np.testing.assert_allclose(x[:n], first[:n], atol=1 / 32768)
        assert entries[r["sources"][0]]["hard"] == segs[0]["emotion"]
    again = make_shift_set(entries, "", Path(r["wav"]).parent / "again", per_corpus=3, seed=1)
    assert [r["segments"] for r in again.values()] == [r["segments"] for r in ref.values()]
    assert [sf.read(r["wav"])[0].tolist() for r in again.values()] == [sf.read(r["wav"])[0].tolist()
                                                                       for r in ref.values()]


@pytest.mark.parametrize("variant", ["16k", "44k_stereo"])
def test_segments_recover_order_and_boundaries_within_one_hop(shift_files, tmp_path, variant):
    ref, _ = shift_files
    hop = 1.0
    for fid, r in ref.items():
        x, _ = sf.read(r["wav"], dtype="float32")
        path = r["wav"]
        if variant == "44k_stereo":  # streamed in blocks and resampled back to 16 kHz
            y = AF.resample(torch.from_numpy(x), SR, 44100).numpy()
            path = tmp_path / f"{fid}.wav"
            sf.write(path, np.stack([y, y], 1), 44100, subtype="FLOAT")
        classes = ["neutral", "anger", "sadness", "happiness"]  # one class that never occurs
        for batch_size in (1, 7):
            oracle = Oracle(x, r["segments"], classes)
            tl = predict_timeline(oracle, path, window=3.0, hop=hop, min_segment=2.0, batch_size=batch_size)
            # each row's samples are the file's samples at the row's start (a repeated utterance may match
            # elsewhere too, so the check is that the stated start fits as well as the best offset)
            for (dist, energy), w in zip(oracle.fits, tl["windows"]):
                assert dist[round(w["start"] * SR)] <= dist.min() + 1e-3 * energy, (fid, w["start"])
            assert [s["emotion"] for s in tl["segments"]] == [s["emotion"] for s in r["segments"]], fid
            for got, want in zip(tl["segments"][1:], r["segments"][1:]):
                assert abs(got["start"] - want["start"]) <= hop, (fid, tl["segments"], r["segments"])
            assert tl["segments"][-1]["end"] == pytest.approx(r["seconds"], abs=1e-3)
            assert score_timeline(tl["segments"], r["segments"], hop)["f1"] == 1.0
            starts = [w["start"] for w in tl["windows"]]
            assert starts[:3] == [0.0, 1.0, 2.0] and tl["windows"][-1]["end"] == pytest.approx(r["seconds"], abs=1e-3)


def test_streamed_windows_equal_the_whole_file_read(shift_files, tmp_path):
    r = next(iter(shift_files[0].values()))
    x, _ = sf.read(r["wav"], dtype="float32")
    y = AF.resample(torch.from_numpy(x), SR, 44100).numpy()
    path = tmp_path / "long.wav"
    sf.write(path, np.stack([y, 0.5 * y], 1), 44100, subtype="FLOAT")
    whole = read_audio(path).numpy()
    n = 0
    for starts, wavs in stream_windows(path, SR, 3.0, 1.0, batch_size=4):
        for s, w in zip(starts, wavs):
            assert len(w) == 3 * SR
            np.testing.assert_allclose(w.numpy(), whole[s:s + len(w)], atol=1e-4)
            n += 1
    assert n == len(window_starts(len(whole), 3 * SR, SR))


def test_timeline_errors_name_the_problem(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not really")
    class Uniform(Recognizer):
        classes, attributes, sample_rate, max_seconds = ["a", "b"], [], SR, None

        def forward_batch(self, wavs, lens=None, texts=None, speaker_stats=None):
            return {"probs": torch.full((len(wavs), 2), 0.5), "attributes": None}

    model = Uniform()
    with pytest.raises(AudioError, match="broken.wav"):
        predict_timeline(model, bad)
    nan = tmp_path / "nan.wav"
    sig = np.zeros(SR * 5, dtype=np.float32)
    sig[SR * 4] = np.nan
    sf.write(nan, sig, SR, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan.wav.*non-finite.*after"):
        predict_timeline(model, nan, batch_size=1)
    model.max_seconds = 2.0
    with pytest.raises(ValueError, match="longer than the 2.0 s"):
        predict_timeline(model, nan, window=3.0)
    with pytest.raises(ValueError, match="hop <= window"):
        predict_timeline(model, nan, window=1.0, hop=2.0)
