import json
import shutil

import numpy as np
import pytest
import yaml

from speechbrain_ser.labels.harmonise import load_mapping
from speechbrain_ser.prepare import stage_labels
from speechbrain_ser.stage import MARKER

from conftest import ROOT

ML_CONF = ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml"
MSP_CONF = ROOT / "recipes" / "MSP-Podcast" / "conf" / "labels.yaml"


@pytest.fixture(scope="module")
def unified(tiny_manifests, tmp_path_factory):
    out = tmp_path_factory.mktemp("labels") / "unified"
    stage_labels(yaml.safe_load(ML_CONF.read_text()), tiny_manifests, out)
    return out


@pytest.fixture(scope="module")
def msp(tiny_manifests, tmp_path_factory):
    out = tmp_path_factory.mktemp("labels") / "msp"
    stage_labels(yaml.safe_load(MSP_CONF.read_text()), tiny_manifests, out)
    return out


def test_splits_and_zero_shot_sets(unified):
    summary = json.loads((unified / "summary.json").read_text())
    for held in ("emodb", "aesdd", "urdu", "subesco"):
        z = json.loads((unified / f"zeroshot_{held}.json").read_text())
        assert z and all(e["split"] == "zeroshot" for e in z.values())
        assert summary["corpora"][held]["split_by"] == "zeroshot"
    train = json.loads((unified / "train.json").read_text())
    dev = json.loads((unified / "dev.json").read_text())
    assert not {e["corpus"] for e in train.values()} & {"emodb", "aesdd", "urdu", "subesco"}
    assert not set(train) & set(dev)
    # speaker-disjoint where a corpus has >= 3 speakers (IEMOCAP: session protocol)
    assert summary["corpora"]["iemocap"]["split_by"] == "official"


def test_targets_are_smoothed_by_intensity(unified):
    m = load_mapping()
    cls = m.space.classes
    crema = {}
    for split in ("train", "dev", "test"):
        p = unified / f"crema_d_{split}.json"
        if p.exists():
            crema.update(json.loads(p.read_text()))
    for e in crema.values():
        t = np.array(e["target"])
        assert t.sum() == pytest.approx(1.0, abs=1e-5)
        if e["native"] != "NEU":
            assert e["epsilon"] == m.epsilon("crema_d", e["intensity"])
            assert t[cls.index("neutral")] == pytest.approx(e["epsilon"], abs=1e-5)
        assert e["hard"] == cls[int(np.argmax(e["target_raw"]))]


def test_vote_based_targets_track_truth(unified, tiny_root):
    """IEMOCAP targets from votes correlate with the generator's blend weights."""
    m = load_mapping()
    truth = {json.loads(l)["wav"].split("/")[-1][:-4]: json.loads(l)
             for l in (tiny_root / ".synth_truth" / "iemocap.jsonl").read_text().splitlines()}
    entries = {}
    for p in unified.glob("iemocap_*.json"):
        entries.update(json.loads(p.read_text()))
    corr = []
    for uid, e in entries.items():
        if e["target"] is None:
            continue
        t = truth[uid.replace("iemocap_", "")]
        w = sum(m.target("iemocap", c) * x for c, x in t["weights"].items())
        corr.append(np.corrcoef(w, e["target_raw"])[0, 1])
        assert e["target_source"] == "votes"
    assert np.nanmean(corr) > 0.6


def test_msp_targets(msp, tiny_root):
    summary = json.loads((msp / "summary.json").read_text())["msp_podcast"]
    assert set(summary["counts"]) <= {"train", "dev", "test1", "test2", "test3"}
    assert all(-1 <= a <= 1 for a in summary["krippendorff_alpha_primary"].values())
    train = json.loads((msp / "train.json").read_text())
    for e in train.values():
        assert sum(e["P"]) == pytest.approx(1.0, abs=1e-5)
        assert all(0 <= x <= 1 for x in e["avd01"])
        assert e["avd01"][0] == pytest.approx((e["avd"][0] - 1) / 6, abs=1e-5)
        if e["hard"] is None:
            assert e["native"] in ("O", "X") and e["ox"] == e["native"]
        assert e["P_star"] == (e["agreement"] >= 0.6)


def test_stage_rerun_is_noop_and_option_change_reruns(tiny_manifests, tmp_path):
    cfg = yaml.safe_load(ML_CONF.read_text())
    out = tmp_path / "labels"
    stage_labels(cfg, tiny_manifests, out)
    stamp = (out / MARKER).stat().st_mtime_ns
    stage_labels(cfg, tiny_manifests, out)
    assert (out / MARKER).stat().st_mtime_ns == stamp
    (out / "stale.json").write_text("{}")
    cfg["neutral_smoothing"] = False
    stage_labels(cfg, tiny_manifests, out)
    assert not (out / "stale.json").exists(), "outputs of different options must not mix"
    train = json.loads((out / "train.json").read_text())
    assert all(e["epsilon"] in (0.0, None) for e in train.values())


def test_unfinished_stage_starts_clean(tiny_manifests, tmp_path):
    out = tmp_path / "labels"
    out.mkdir()
    (out / "train.json").write_text('{"half": "written"}')
    stage_labels(yaml.safe_load(ML_CONF.read_text()), tiny_manifests, out)
    assert "half" not in json.loads((out / "train.json").read_text())


def test_fingerprint_depends_on_options_not_on_when_the_stage_ran(tiny_manifests, tmp_path):
    """Rebuilding a stage with the same options (here: after deleting it) must not make the
    training folder built on it look stale; other options must."""
    from speechbrain_ser.stage import fingerprint

    cfg = yaml.safe_load(ML_CONF.read_text())
    out = tmp_path / "labels"
    stage_labels(cfg, tiny_manifests, out)
    fp = fingerprint(out)
    shutil.rmtree(out)
    stage_labels(cfg, tiny_manifests, out)
    assert fingerprint(out) == fp
    cfg["neutral_smoothing"] = False
    stage_labels(cfg, tiny_manifests, out)
    assert fingerprint(out) != fp


def _all(folder):
    out = {}
    for f in folder.glob("*_*.json"):
        if f.stem.startswith("zeroshot_") or f.stem == "summary":
            continue
        out.update(json.loads(f.read_text()))
    return out


def test_no_agreement_is_not_trained_on_unless_the_policy_says_so(unified, tiny_manifests, tmp_path):
    every = _all(unified)
    xxx = {k: e for k, e in every.items() if e["corpus"] == "iemocap" and e["native"] == "xxx"}
    x = {k: e for k, e in every.items() if e["corpus"] == "msp_podcast" and e["native"] == "X"}
    assert xxx and x, "the tiny data holds no-agreement utterances with votes"
    assert all(e["target"] is None and e["hard"] is None for e in {**xxx, **x}.values())
    summary = json.loads((unified / "summary.json").read_text())["corpora"]
    assert sum(summary["iemocap"]["excluded_by_label"]["xxx"].values()) == len(xxx)
    cfg = {**yaml.safe_load(ML_CONF.read_text()), "no_agreement": "votes"}
    stage_labels(cfg, tiny_manifests, tmp_path / "votes")
    every = _all(tmp_path / "votes")
    got = [every[k] for k in xxx]
    assert all(e["target"] is not None and e["target_source"] == "votes" and e["hard"] is None for e in got)
    s = json.loads((tmp_path / "votes" / "summary.json").read_text())["corpora"]["iemocap"]
    assert s["no_agreement_with_vote_targets"] == len(xxx) and "xxx" not in s["excluded_by_label"]


def test_soft_rows_get_no_hard_label_without_an_explicit_policy(unified, tiny_manifests, tmp_path):
    z = json.loads((unified / "zeroshot_emodb.json").read_text())
    bored = [e for e in z.values() if e["native"] == "L"]
    assert bored and all(e["hard"] is None and e["target"] is not None for e in bored)  # never argmax -> neutral
    assert all(e["native_classes"] == ["neutral", "sadness"] for e in bored)
    contempt = [e for e in _all(unified).values() if e["corpus"] == "msp_podcast" and e["native"] == "C"]
    assert contempt and all(e["hard"] is None for e in contempt)
    ps = [e for e in _all(unified).values() if e["corpus"] == "tess" and e["native"] == "ps"]
    assert ps and all(e["hard"] == "surprise" for e in ps)  # from the recipe's score_as
    cfg = yaml.safe_load(ML_CONF.read_text())
    cfg["score_as"] = {**cfg["score_as"], "emodb": {"L": "sadness"}}
    stage_labels(cfg, tiny_manifests, tmp_path / "scored")
    z = json.loads((tmp_path / "scored" / "zeroshot_emodb.json").read_text())
    assert {e["hard"] for e in z.values() if e["native"] == "L"} == {"sadness"}
    cfg["score_as"] = {"emodb": {"L": "boredom"}}
    with pytest.raises(Exception, match="not a class"):
        stage_labels(cfg, tiny_manifests, tmp_path / "bad")


def test_class_inventory_comes_from_the_mapping_not_the_references(unified):
    from speechbrain_ser.zero_shot import inventories, score_groups

    summary = json.loads((unified / "summary.json").read_text())["corpora"]
    assert summary["emodb"]["inventory"] == ["neutral", "happiness", "sadness", "anger", "fear", "disgust"]
    assert summary["urdu"]["inventory"] == ["neutral", "happiness", "sadness", "anger"]
    classes = load_mapping().space.classes
    inv = inventories(unified, classes)
    # two EmoDB references, neither fear; the model favours fear: fear is still a possible answer
    entries = {"a": {"corpus": "emodb", "language": "de", "hard": "anger"},
               "b": {"corpus": "emodb", "language": "de", "hard": "neutral"}}
    probs = np.full((2, len(classes)), 0.01)
    probs[:, classes.index("fear")] = 0.9
    row = [r for r in score_groups(entries, ["a", "b"], probs, classes, inv) if r["level"] == "corpus"][0]
    assert row["n_classes"] == 6 and row["chance_uar"] == round(1 / 6, 4)
    assert row["micro_f1"] == 0.0 and row["uar"] == 0.0  # fear predicted, not forced into {anger, neutral}


def test_stage2_reruns_when_the_mapping_content_changes(tiny_manifests, tmp_path):
    from speechbrain_ser.labels.harmonise import DEFAULT_MAPPING

    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(DEFAULT_MAPPING.read_text())
    cfg = {**yaml.safe_load(ML_CONF.read_text()), "mapping": str(mapping)}
    out = tmp_path / "labels"
    stage_labels(cfg, tiny_manifests, out)
    before = json.loads((out / "zeroshot_emodb.json").read_text())
    assert {e["hard"] for e in before.values() if e["native"] == "W"} == {"anger"}
    # the same path, new content: W (Ärger) mapped to disgust
    mapping.write_text(mapping.read_text().replace('W: {to: {anger: 1.0}', 'W: {to: {disgust: 1.0}'))
    stage_labels(cfg, tiny_manifests, out)
    after = json.loads((out / "zeroshot_emodb.json").read_text())
    assert {e["hard"] for e in after.values() if e["native"] == "W"} == {"disgust"}
