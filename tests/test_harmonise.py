import numpy as np
import pytest
import yaml

from speechbrain_ser import corpora
from speechbrain_ser.labels.harmonise import LabelConfigError, load_mapping


@pytest.fixture(scope="module")
def mapping():
    return load_mapping()


def test_every_native_label_has_a_row(mapping):
    for mod in map(corpora.get, corpora.NAMES):
        cm = mapping.corpora[mod.NAME]
        assert set(cm.rows) | cm.excluded == set(mod.LABELS), mod.NAME
        for native, row in cm.rows.items():
            assert row.sum() == pytest.approx(1.0)


def test_design_examples(mapping):
    cls = mapping.space.classes
    c = mapping.target("msp_podcast", "C")
    assert c[cls.index("disgust")] == 0.5 and c[cls.index("neutral")] == 0.5
    bored = mapping.target("emodb", "L")
    assert bored[cls.index("neutral")] > 0 and bored[cls.index("sadness")] > 0
    ps = mapping.target("tess", "ps")
    assert ps[cls.index("surprise")] > ps[cls.index("happiness")] > 0
    assert mapping.target("iemocap", "xxx") is None


def test_neutral_smoothing_closed_form(mapping):
    cls = mapping.space.classes
    t = mapping.target("crema_d", "ANG")
    for level, eps in (("LO", 0.3), ("HI", 0.05)):
        assert mapping.epsilon("crema_d", level) == eps
        s = mapping.smooth(t, eps)
        assert s[cls.index("anger")] == pytest.approx(1 - eps)
        assert s[cls.index("neutral")] == pytest.approx(eps)
        assert s.sum() == pytest.approx(1.0)
    # no intensity level -> default epsilon; neutral targets are untouched
    assert mapping.epsilon("emovo", None) == mapping.default_epsilon
    n = mapping.target("emovo", "neu")
    np.testing.assert_array_equal(mapping.smooth(n, 0.3), n)
    # a stronger intensity is smoothed less
    assert mapping.epsilon("ravdess", "strong") < mapping.epsilon("ravdess", "normal")


def test_overrides(mapping):
    m = load_mapping(overrides={"default_epsilon": 0.25, "corpora": {"crema_d": {"intensity_epsilon": {"LO": 0.5}}}})
    assert m.epsilon("emovo", None) == 0.25
    assert m.epsilon("crema_d", "LO") == 0.5


@pytest.mark.parametrize("row,msg", [
    ({"to": {"anger": 0.6}, "why": "x"}, "sum to 0.6"),
    ({"to": {"anger": 1.0}}, "why"),
    ({"to": {"rage": 1.0}, "why": "x"}, "unknown class 'rage'"),
])
def test_bad_rows_are_named(tmp_path, row, msg):
    doc = {"space": "unified", "corpora": {"emodb": {"labels": {"W": row}}}}
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(LabelConfigError, match=msg) as e:
        load_mapping(p)
    assert "corpora.emodb.labels.W" in str(e.value) and str(p) in str(e.value)


def test_arousal_grouping_is_the_label_space_configs(mapping):
    """Binary arousal (spaces.yaml): the unified classes by name, a corpus's native labels through
    their mapping rows (the group holding more than half of the row), hand-checked."""
    from speechbrain_ser.labels.harmonise import arousal_groups, load_space

    assert load_space("unified").arousal == {"anger": "high", "happiness": "high", "fear": "high",
                                             "surprise": "high", "neutral": "low", "sadness": "low"}
    assert load_space("msp_podcast").arousal["A"] == "high" and "C" not in load_space("msp_podcast").arousal
    assert mapping.arousal("ravdess", "calm") == "low"      # 0.8 neutral + 0.2 sadness
    assert mapping.arousal("tess", "ps") == "high"          # pleasant surprise: surprise + happiness
    assert mapping.arousal("ravdess", "disgust") is None    # disgust is in neither group
    got = arousal_groups(["anger", "disgust", "calm", "angry", "unknown"], "ravdess", mapping)
    assert got == {"anger": "high", "disgust": None, "calm": "low", "angry": "high", "unknown": None}
    assert arousal_groups(["calm"], None, mapping) == {"calm": None}   # a native label needs its corpus


def test_benchmark_arousal_uar_by_hand():
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from real_corpora import arousal_uar

    refs = np.array(["anger", "sadness", "neutral", "disgust"])
    preds = np.array(["fear", "anger", "neutral", "anger"])
    # disgust left out; truth high, low, low; predicted high, high, low: recalls 1 and 1/2
    assert arousal_uar(refs, preds) == pytest.approx(0.75)
    native = np.array(["angry", "calm", "sad", "happy"])    # RAVDESS's own labels
    assert arousal_uar(native, np.array(["happy", "sad", "angry", "happy"]), "ravdess") == pytest.approx(0.75)
    assert np.isnan(arousal_uar(np.array(["disgust"]), np.array(["anger"])))
