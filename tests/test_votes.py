import numpy as np
import pytest

from speechbrain_ser.labels import votes as V

MSP = ["A", "S", "H", "U", "F", "D", "C", "N"]


def test_conilium_fig2():
    """CONILIUM Fig. 2: primaries N,N,S,N; secondaries {N,S},{N,O},{S,U},{N,S,O}."""
    prim = ["N", "N", "S", "N"]
    sec = [["N", "S"], ["N", "O"], ["S", "U"], ["N", "S", "O"]]
    assert V.majority(prim) == "N"
    P = V.primary_distribution(prim, MSP)
    S = V.secondary_distribution(sec, MSP)
    expect_P = np.zeros(8); expect_P[MSP.index("N")] = 3 / 4; expect_P[MSP.index("S")] = 1 / 4
    expect_S = np.zeros(8)
    expect_S[MSP.index("N")] = 3 / 7; expect_S[MSP.index("S")] = 3 / 7; expect_S[MSP.index("U")] = 1 / 7
    np.testing.assert_allclose(P, expect_P)
    np.testing.assert_allclose(S, expect_S)
    assert V.high_agreement_p(prim)          # 75% >= 60%
    assert not V.high_agreement_s(S)         # max 3/7 < 50%


def test_majority_tie_is_no_agreement():
    assert V.majority(["A", "S"]) == V.NO_AGREEMENT
    assert V.majority(["A", "A", "S", "S", "N"]) == V.NO_AGREEMENT
    assert V.majority(["A", "A", "S"]) == "A"
    with pytest.raises(ValueError):
        V.majority([])


def test_p_star_threshold():
    assert V.high_agreement_p(["H", "H", "H", "N", "S"])       # 60%
    assert not V.high_agreement_p(["H", "H", "N", "S", "A"])   # 40%


def test_agreement_and_entropy():
    assert V.primary_agreement(["N", "N", "S", "N"]) == 0.75
    assert V.normalised_entropy(np.array([1.0, 0, 0])) == 0.0
    assert V.normalised_entropy(np.ones(4) / 4) == pytest.approx(1.0)


def test_krippendorff_reference_example():
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability': nominal alpha = 0.743."""
    coders = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    units = [{c: v[j] for c, v in coders.items() if v[j] is not None} for j in range(12)]
    assert V.krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=1e-3)
    assert V.krippendorff_alpha(units, "ordinal") == pytest.approx(0.815, abs=1e-3)   # the paper's ordinal value
    with pytest.raises(ValueError, match="undefined"):
        V.krippendorff_alpha([{"a": 1}, {"b": 2}])   # no unit coded twice


def test_krippendorff_from_value_counts_equals_the_dense_matrix():
    """Per-unit value counts (the scalable path) give what the ``krippendorff`` package (an independent
    implementation, GPL: a test-only dependency) computes from the dense annotators × units matrix."""
    krippendorff = pytest.importorskip("krippendorff", reason="the test extra (krippendorff) is not installed")

    rng = np.random.default_rng(0)
    workers = [f"W{i}" for i in range(30)]
    units = []
    for _ in range(200):
        raters = rng.choice(30, int(rng.integers(2, 6)), replace=False)
        true = rng.integers(8)
        units.append({workers[r]: int(true if rng.random() < 0.6 else rng.integers(8)) for r in raters})
    dense = np.full((30, 200), np.nan)
    for j, u in enumerate(units):
        for w, v in u.items():
            dense[workers.index(w), j] = v
    for level in ("nominal", "ordinal", "interval"):
        ref = krippendorff.alpha(reliability_data=dense, level_of_measurement=level)
        assert V.krippendorff_alpha(units, level) == pytest.approx(ref, abs=1e-9)
    # example of the reference above, interval level (Krippendorff 2011: 0.849)
    coders = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    ex = [{c: v[j] for c, v in coders.items() if v[j] is not None} for j in range(12)]
    assert V.krippendorff_alpha(ex, "interval") == pytest.approx(0.849, abs=1e-3)
