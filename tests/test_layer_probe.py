"""benchmarks/layer_probe.py: the per-layer linear probe over cached upstream states."""
import json
import sys

import numpy as np
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import layer_probe  # noqa: E402

CLASSES = ["neutral", "happiness", "sadness", "anger"]


def test_restricted_corpus_uar_by_hand():
    """Corpus a (neutral, anger): the top score 'happiness' is outside its classes, so the restricted
    argmax is anger (right) and neutral (right) -> 1.0; corpus b (all four): 1 of 2 sad files right,
    the happy one right -> (1 + 0.5) / 2 = 0.75; mean 0.875."""
    scores = np.log(np.array([[.1, .6, .0, .3], [.5, .4, .0, .1],
                              [.0, .1, .8, .1], [.0, .7, .2, .1], [.1, .6, .2, .1]]) + 1e-9)
    refs = np.array([3, 0, 2, 2, 1])
    out = layer_probe.corpus_uar(scores, refs, ["a", "a", "b", "b", "b"],
                                 {"a": ["neutral", "anger"], "b": CLASSES}, CLASSES)
    assert out["a"] == pytest.approx(1.0) and out["b"] == pytest.approx(0.75)
    assert out["mean"] == pytest.approx(0.875)


def test_the_layer_that_carries_the_class_is_found(tmp_path):
    """Layer 1's frames are shifted by the class, layer 0's are noise: layer 1 alone scores 1.0 on dev
    and the held-out corpus, layer 0 alone near chance; pooled states are kept and reused."""
    import kaldiio

    rng = np.random.default_rng(0)
    dim, feats, labels = 4, tmp_path / "features" / "fp", tmp_path / "run" / "en_seed0" / "data" / "labels"
    (feats / "c1" / "part-1").mkdir(parents=True)
    labels.mkdir(parents=True)
    sets = {"train": [], "dev": [], "zeroshot_c2": []}
    with kaldiio.WriteHelper(f"ark,scp:{feats / 'c1/part-1/feats.ark'},{feats / 'c1/part-1/feats.scp'}") as w:
        for i in range(240):
            k = i % 4
            x = rng.normal(size=(20, 2, dim)).astype(np.float32)
            x[:, 1, k] += 3.0
            name = ["train", "train", "dev", "zeroshot_c2"][(i // 4) % 4]
            uid = f"u{i:03d}"
            w(uid, x.reshape(20, 2 * dim))
            sets[name].append((uid, CLASSES[k]))
    corpus = {"train": "c1", "dev": "c1", "zeroshot_c2": "c2"}
    for name, items in sets.items():
        (labels / f"{name}.json").write_text(json.dumps({u: {"hard": c, "corpus": corpus[name]} for u, c in items}))
    (labels / "summary.json").write_text(json.dumps({"space": CLASSES, "corpora": {
        "c1": {"inventory": CLASSES}, "c2": {"inventory": CLASSES}}}))
    pooled = layer_probe.pooled_states(feats, dim)
    assert (feats / "pooled.npz").exists() and pooled["u000"].shape == (2, 2 * dim)
    rows = {r["view"]: r for r in layer_probe.fold(labels.parents[1], pooled)}
    assert rows["layer 1"]["dev"]["mean"] == 1.0 and rows["layer 1"]["held"]["c2"] == 1.0
    assert rows["layer 0"]["dev"]["mean"] < 0.6
    again = layer_probe.pooled_states(feats, dim)
    assert np.array_equal(again["u007"], pooled["u007"])
