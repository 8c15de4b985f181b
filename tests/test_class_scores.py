"""One definition of a head's class scores (issue 18, item 1): thresholds, submissions and
calibration read softmax, sigmoid and raw MSE outputs through ``class_scores``."""
import csv

import numpy as np
import pytest

from speechbrain_ser.class_scores import decision_scores, distribution, simplex_projection
from speechbrain_ser.msp import CLASSES
from speechbrain_ser.msp.postprocess import apply_offsets, tune_offsets
from speechbrain_ser.msp.submissions import write_submissions


def test_mse_scores_above_one_keep_their_order():
    # raw MSE scores: 1.30 is the largest; clipping to a probability made 1.10 and 1.30 equal (class 0 won)
    s = np.array([[1.10, 1.30, 0.20, -0.10, 0.0, 0.05, -0.3, 0.1]])
    assert apply_offsets(s, np.zeros(8), "identity")[0] == 1


@pytest.mark.parametrize("head", ["softmax", "sigmoid", "identity"])
def test_zero_offsets_give_the_argmax(head, tmp_path):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 8)) * 2
    out = {"softmax": np.exp(z) / np.exp(z).sum(1, keepdims=True), "sigmoid": 1 / (1 + np.exp(-z)),
           "identity": z / 3}[head]
    assert (apply_offsets(out, np.zeros(8), head) == out.argmax(1)).all()
    ids = [f"u{i}" for i in range(len(out))]
    write_submissions(tmp_path, "dev", ids, out, None, np.zeros(8), head)
    with open(tmp_path / "submission_categorical_dev.csv") as f:
        got = [r["EmoClass"] for r in csv.DictReader(f)]
    assert got == [CLASSES[k] for k in out.argmax(1)]


def test_offsets_tuned_on_mse_scores_raise_macro_f1():
    # class 1 is always scored 0.15 below what it should be: a positive offset on class 1 fixes it
    rng = np.random.default_rng(1)
    refs = rng.integers(0, 8, 400)
    s = rng.normal(0, 0.1, (400, 8))
    s[np.arange(400), refs] += 0.3
    s[:, 1] -= 0.25
    off = tune_offsets(s, refs, "identity")
    assert off.argmax() == 1 and off[1] > 0
    assert (apply_offsets(s, off, "identity") == refs).mean() > (s.argmax(1) == refs).mean() + 0.05
    assert (s.argmax(1) == refs)[refs == 1].mean() < 0.5


def test_simplex_projection_hand_computed():
    # sorted 1.3, 1.1, -0.2: tau = (1.3 + 1.1 - 1) / 2 = 0.7 -> (0.4, 0.6, 0)
    np.testing.assert_allclose(simplex_projection(np.array([[1.1, 1.3, -0.2]])), [[0.4, 0.6, 0.0]], atol=1e-12)
    # all equal (a sum of 0 included): uniform, never NaN
    np.testing.assert_allclose(simplex_projection(np.zeros((1, 4))), [[0.25] * 4])
    np.testing.assert_allclose(simplex_projection(np.array([[-1.0, 1.0]])), [[0.0, 1.0]])
    # a distribution is its own projection
    p = np.array([[0.2, 0.3, 0.5]])
    np.testing.assert_allclose(simplex_projection(p), p)


def test_distribution_per_head():
    raw = np.array([[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]])
    d = distribution(raw, "identity")
    assert np.isfinite(d).all() and np.allclose(d.sum(1), 1) and (d >= 0).all()
    assert (d.argmax(1)[:1] == raw.argmax(1)[:1]).all()
    sig = np.array([[0.9, 0.6, 0.3]])
    np.testing.assert_allclose(distribution(sig, "sigmoid"), [[0.5, 1 / 3, 1 / 6]])
    sm = np.array([[0.7, 0.2, 0.1]])
    assert distribution(sm, "softmax") is not None and np.allclose(distribution(sm, "softmax"), sm)
    np.testing.assert_allclose(decision_scores(sm, "softmax"), np.log(sm))
    with pytest.raises(ValueError, match="unknown head_output"):
        distribution(sm, "tanh")


def test_balance_offsets_make_the_mean_prediction_uniform_and_keep_the_ranking():
    from speechbrain_ser.class_scores import balance_offsets

    # hand example: two classes, a model that says "class 0" with p = 0.9 to everyone but ranks correctly
    p = np.array([[0.95, 0.05], [0.9, 0.1], [0.85, 0.15], [0.8, 0.2]])
    b = balance_offsets(np.log(p))
    z = np.log(p) + b
    q = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(q.mean(0), [0.5, 0.5], atol=1e-8)
    assert z.argmax(1).tolist() == [0, 0, 1, 1]          # the two least "class 0" utterances flip
    # an already balanced set needs no offset
    np.testing.assert_allclose(balance_offsets(np.log(np.array([[0.7, 0.3], [0.3, 0.7]]))), [0, 0], atol=1e-9)


def test_restricted_decisions_by_hand():
    """Class restriction (a corpus scored on fewer classes): renormalised over the allowed classes,
    the argmax among them; balanced: offsets making the mean decision distribution uniform."""
    from speechbrain_ser.class_scores import restricted_decisions, restricted_log_probs

    dist = np.array([[0.5, 0.3, 0.2], [0.6, 0.1, 0.3], [0.7, 0.2, 0.1]])
    logp = restricted_log_probs(dist, [1, 2])
    assert np.allclose(np.exp(logp), [[0.6, 0.4], [0.25, 0.75], [2 / 3, 1 / 3]])
    assert restricted_decisions(dist, [1, 2]).tolist() == [1, 2, 1]   # class 0 (the argmax) never chosen
    # all four rows prefer class 1; balanced (mean decision distribution uniform), the two least
    # sure of it (rows 0 and 3: 0.6 and 0.7) are decided as class 2
    both = restricted_decisions(np.array([[0.0, 0.6, 0.4], [0.0, 0.9, 0.1], [0.0, 0.8, 0.2], [0.0, 0.7, 0.3]]),
                                [1, 2], balanced=True)
    assert both.tolist() == [2, 1, 1, 2]
