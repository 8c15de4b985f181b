"""Calibration measures against hand-computed values, and temperature scaling."""
import numpy as np
import pytest

from speechbrain_ser import calibration as cal


def test_ece_equals_the_hand_computed_value():
    # confidences 0.9 (right), 0.62 (wrong), 0.8 (right), 0.55 (right); 15 bins of width 1/15:
    # 0.9 -> bin 13, 0.62 -> bin 9, 0.8 -> bin 11, 0.55 -> bin 8, one utterance each:
    # ECE = 1/4 * (|1 - 0.9| + |0 - 0.62| + |1 - 0.8| + |1 - 0.55|) = 1/4 * 1.37 = 0.3425
    probs = np.array([[0.9, 0.1], [0.62, 0.38], [0.8, 0.2], [0.55, 0.45]])
    refs = np.array([0, 1, 0, 0])
    assert cal.ece(probs, refs) == pytest.approx(0.3425)
    # two utterances in one bin: |accuracy - mean confidence| of the bin, weighted by its share
    probs2 = np.array([[0.9, 0.1], [0.92, 0.08]])
    assert cal.ece(probs2, np.array([0, 1])) == pytest.approx(abs(0.5 - 0.91))


def test_nll_brier_and_jsd_closed_forms():
    p = np.array([[0.7, 0.2, 0.1]])
    assert cal.nll(p, np.array([0])) == pytest.approx(-np.log(0.7))
    assert cal.brier(p, np.array([0])) == pytest.approx(0.09 + 0.04 + 0.01)
    assert cal.mean_jsd(p, p) == pytest.approx(0, abs=1e-12)
    assert cal.mean_jsd(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])) == pytest.approx(1.0)


def test_temperature_scaling_fixes_an_over_confident_classifier_and_keeps_the_argmax():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.0, size=(4000, 5))
    true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    refs = np.array([rng.choice(5, p=p) for p in true])
    over = np.exp(3 * z) / np.exp(3 * z).sum(1, keepdims=True)  # logits 3x too large
    dev, test = slice(0, 2000), slice(2000, None)
    t = cal.fit_temperature(over[dev], refs[dev])
    assert t == pytest.approx(3.0, rel=0.15)
    after = cal.scale(over[test], t)
    assert cal.ece(after, refs[test]) < 0.5 * cal.ece(over[test], refs[test])
    assert cal.nll(after, refs[test]) < cal.nll(over[test], refs[test])
    for temp in (0.2, 1.0, t, 20.0):
        assert (cal.scale(over, temp).argmax(1) == over.argmax(1)).all()
    assert np.allclose(cal.scale(over, t).sum(1), 1)
