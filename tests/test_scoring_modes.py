"""How a number was made: intervals that resample speakers, and stage 4's two scoring modes of a
speaker-normalised model (``lone``: each file alone, as ``ser-predict FILE``; ``speaker``: grouped by
speaker, transductive), each labelled wherever a number is written."""
import numpy as np
import pytest

from speechbrain_ser import metrics


def test_cluster_bootstrap_resamples_speakers_hand_example():
    """Speaker A: both utterances right; speaker B: both wrong. Resampling speakers gives AA (UAR 1),
    AB or BA (0.5), BB (0), with probabilities 1/4, 1/2, 1/4 and nothing else; resampling utterances
    gives values in between (e.g. 1/3, 2/3) and a narrower spread."""
    refs, preds, spk = ["x", "y", "x", "y"], ["x", "y", "y", "x"], ["A", "A", "B", "B"]
    vals, unit = metrics.bootstrap_values(refs, preds, ["x", "y"], spk, n=4000, seed=1)
    assert unit == "speaker"
    values, counts = np.unique(vals, return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert counts / counts.sum() == pytest.approx([0.25, 0.5, 0.25], abs=0.03)
    lo, hi, unit = metrics.bootstrap_interval(refs, preds, ["x", "y"], spk, n=4000)  # 2 speakers: no interval
    assert np.isnan(lo) and np.isnan(hi) and unit == "speaker"
    utt, unit = metrics.bootstrap_values(refs, preds, ["x", "y"], None, n=4000, seed=1)
    assert unit == "utterance" and set(np.round(utt, 4)) - {0.0, 0.5, 1.0}
    assert utt.std() < vals.std()
    # an unknown speaker (None) is a cluster of its own, never pooled with other unknown ones
    conf, _ = metrics.confusion_by_cluster(refs, preds, ["x", "y"], ["A", "A", None, None])
    assert conf.shape[0] == 3


def test_no_interval_from_fewer_than_five_speakers():
    """One speaker resampled is a zero-width "interval", two give three values: below
    metrics.MIN_CLUSTERS (5) speakers no interval is computed, and it is printed as none, with the
    count; from 5 speakers on, the percentile interval of the speaker bootstrap."""
    assert metrics.MIN_CLUSTERS == 5
    refs, preds = ["x", "y", "x", "y"] * 5, ["x", "y", "y", "y"] * 5
    for n_spk in (1, 2, 4):
        spk = [f"s{i % n_spk}" for i in range(len(refs))]
        lo, hi, unit = metrics.bootstrap_interval(refs, preds, ["x", "y"], spk)
        assert np.isnan(lo) and np.isnan(hi) and unit == "speaker"
        assert metrics.interval_text(lo, hi, n_spk) == f"(no interval: {n_spk} speakers: fewer than 5)"
    # 5 speakers, A-D right on both classes, E wrong on x: UAR 1 (E not drawn) down to 0.5 (only E drawn)
    refs, preds = ["x", "y"] * 5, ["x", "y"] * 4 + ["y", "y"]
    spk = [s for s in "ABCDE" for _ in range(2)]
    lo, hi, unit = metrics.bootstrap_interval(refs, preds, ["x", "y"], spk, n=4000)
    assert unit == "speaker" and hi == 1.0 and 0.5 <= lo < 0.9
    assert metrics.interval_text(lo, hi) == f"[{lo:.3f}, 1.000]"
    assert metrics.interval_text(0.2, 0.4, 2) == "(no interval: 2 speakers: fewer than 5)"  # bounds from before
    # utterances as the unit: the same minimum, counted in utterances
    assert np.isnan(metrics.bootstrap_interval(["x", "y", "x"], ["x", "y", "y"], ["x", "y"])[0])


def test_metrics_from_confusion_equal_the_definitions_hand_computed():
    # refs x y x y x, preds x y y z x over {x, y, z}: recall x 2/3, y 1/2 -> UAR 7/12; accuracy 3/5;
    # F1 x = 2*2/(3+2) = 0.8, F1 y = 2*1/(2+2) = 0.5 -> macro-F1 (classes in the references) 0.65
    conf, _ = metrics.confusion_by_cluster(list("xyxyx"), list("xyyzx"), ["x", "y", "z"])
    total = conf.sum(0)
    assert metrics.from_confusion(total, "uar") == pytest.approx(7 / 12)
    assert metrics.from_confusion(total, "accuracy") == pytest.approx(3 / 5)
    assert metrics.from_confusion(total, "macro_f1") == pytest.approx(0.65)
