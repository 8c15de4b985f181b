"""Reading real recordings: silence trimming and level (``speechbrain_ser.audio``), hand-checked."""
import numpy as np
import pytest
import soundfile as sf

from speechbrain_ser.audio import read_audio, set_level, speech_region

SR = 16000


def tone(seconds, amp, f=220.0):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * f * t)).astype(np.float32)


def test_speech_region_of_silence_tone_silence():
    x = np.concatenate([np.zeros(SR, np.float32), tone(1.0, 0.3), np.zeros(SR, np.float32)])
    a, b = speech_region(x, SR, trim_db=40)
    # speech 1.0-2.0 s, plus the 0.1 s margin, to within a 25 ms frame
    assert abs(a / SR - 0.9) <= 0.026 and abs(b / SR - 2.1) <= 0.026
    # a quiet breath 50 dB below the speech is silence at 40 dB, speech at 60 dB
    x[int(0.2 * SR):int(0.4 * SR)] = tone(0.2, 0.3 * 10 ** (-50 / 20))
    assert abs(speech_region(x, SR, 40)[0] / SR - 0.9) <= 0.026
    assert speech_region(x, SR, 60)[0] / SR < 0.2


def test_level_sets_the_speech_rms():
    x = np.concatenate([np.zeros(SR // 2, np.float32), tone(1.0, 0.01)])
    y = set_level(x, SR, level_db=-20)
    # speech RMS = amplitude / sqrt(2): -20 dBFS -> amplitude 0.1 * sqrt(2)
    assert np.abs(y).max() == pytest.approx(0.1 * np.sqrt(2), rel=0.01)
    # never clipped: a target above what the peak allows stops at a peak of 0.99
    assert np.abs(set_level(x, SR, level_db=6)).max() == pytest.approx(0.99, rel=1e-4)


def test_read_audio_trims_then_levels_then_crops(tmp_path):
    x = np.concatenate([np.zeros(SR, np.float32), tone(2.0, 0.02), np.zeros(SR, np.float32)])
    p = tmp_path / "a.flac"
    sf.write(p, x, SR)
    w = read_audio(p, SR, max_seconds=None, trim_db=40, level_db=-20).numpy()
    assert abs(len(w) / SR - 2.2) <= 0.05  # within a 25 ms frame at either end
    assert np.sqrt(np.mean(w[int(0.2 * SR):-int(0.2 * SR)] ** 2)) == pytest.approx(0.1, rel=0.02)
    # the crop keeps the first 1.5 s of speech, not of silence
    w = read_audio(p, SR, max_seconds=1.5, trim_db=40).numpy()
    assert len(w) == int(1.5 * SR) and np.abs(w[int(0.2 * SR):]).min() >= 0 and np.abs(w).max() > 0.015
    # off by default: the file as it is
    assert len(read_audio(p, SR)) == len(x)


def test_level_never_amplifies_near_silence_by_more_than_40_db():
    x = tone(1.0, 1e-5)
    assert np.abs(set_level(x, SR, level_db=-20)).max() == pytest.approx(1e-5 * 100, rel=1e-3)
