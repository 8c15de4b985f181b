import hashlib
import json

import numpy as np
import pytest

from speechbrain_ser.labels import votes as V
from speechbrain_ser.synth.annotators import make_pool, vote
from speechbrain_ser.synth.generate import generate
from speechbrain_ser.synth.espeak_prosody import PROTOTYPES, blend_params, mix

CODES = ["A", "S", "H", "U", "F", "D", "C", "N"]


def _digest(root):
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_identical_bytes_other_seed_differs(tmp_path):
    names = ["emodb", "msp_podcast"]
    a = generate(tmp_path / "a", "tiny", seed=3, names=names)
    b = generate(tmp_path / "b", "tiny", seed=3, names=names)
    c = generate(tmp_path / "c", "tiny", seed=4, names=names)
    assert a == b == c
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_rerun_same_options_is_noop_and_foreign_dir_refused(tmp_path):
    root = tmp_path / "d"
    generate(root, "tiny", seed=0, names=["tess"])
    stamp = (root / ".synth.json").stat().st_mtime_ns
    generate(root, "tiny", seed=0, names=["tess"])
    assert (root / ".synth.json").stat().st_mtime_ns == stamp
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "x.txt").write_text("user data")
    with pytest.raises(RuntimeError, match="refusing"):
        generate(foreign, "tiny", names=["tess"])
    assert (foreign / "x.txt").exists()


def test_recipes_share_a_data_root_without_regenerating_each_other(tmp_path):
    """MSP-Podcast makes only its corpus, Multilingual16 all 16, in the same root: adding
    corpora leaves the others' bytes and stage 1's view of them unchanged; a crashed
    corpus is made again; another seed starts the root over."""
    from speechbrain_ser import corpora
    from speechbrain_ser.synth.generate import record_for

    root = tmp_path / "shared"
    generate(root, "tiny", seed=0, names=["tess"])
    tess = root / corpora.get("tess").DIRNAME
    before, view = _digest(tess), record_for(root, ["tess"])
    stamps = {f: f.stat().st_mtime_ns for f in tess.rglob("*")}
    generate(root, "tiny", seed=0, names=["emodb", "tess"])
    assert _digest(tess) == before and record_for(root, ["tess"]) == view
    assert {f: f.stat().st_mtime_ns for f in tess.rglob("*")} == stamps  # not rewritten
    alone = tmp_path / "alone"
    generate(alone, "tiny", seed=0, names=["emodb"])
    emodb = corpora.get("emodb").DIRNAME
    assert _digest(root / emodb) == _digest(alone / emodb)
    # a crash while making a corpus: its folder exists but the marker does not list it
    made = json.loads((root / ".synth.json").read_text())
    del made["counts"]["emodb"]
    (root / ".synth.json").write_text(json.dumps(made))
    (root / emodb / "half_written.wav").write_bytes(b"RIFF")
    generate(root, "tiny", seed=0, names=["emodb"])
    assert not (root / emodb / "half_written.wav").exists() and _digest(root / emodb) == _digest(alone / emodb)
    generate(root, "tiny", seed=1, names=["tess"])
    assert not (root / emodb).exists() and json.loads((root / ".synth.json").read_text())["options"]["seed"] == 1


def test_blend_interpolates_prototype_parameters():
    p = blend_params({"anger": 0.7, "sadness": 0.3})
    for k in ("pitch", "rate", "gain_db"):
        assert p[k] == pytest.approx(0.7 * PROTOTYPES["anger"][k] + 0.3 * PROTOTYPES["sadness"][k])
    assert mix([({"anger": 1.0}, 0.7), ({"neutral": 1.0}, 0.3)]) == pytest.approx({"anger": 0.7, "neutral": 0.3})


def test_votes_of_a_70_30_blend_give_P_near_truth():
    rng = np.random.default_rng(0)
    pool = make_pool(25, rng)
    Ps = []
    for k in range(400):
        raters = rng.choice(25, 6, replace=False)
        vs = [vote(pool[i], {"A": 0.7, "S": 0.3}, CODES, "N", [5, 2, 5], rng) for i in raters]
        Ps.append(V.primary_distribution([v["primary"] for v in vs], CODES))
    P = np.mean(Ps, axis=0)
    assert P[CODES.index("A")] == pytest.approx(0.7, abs=0.08)
    assert P[CODES.index("S")] == pytest.approx(0.3, abs=0.08)
    assert P.sum() == pytest.approx(1.0)


def test_generated_msp_labels_follow_recorded_truth(tiny_root):
    """P in the generated detailed labels tracks the blend weights in the truth file."""
    truth = [json.loads(x) for x in (tiny_root / ".synth_truth" / "msp_podcast.jsonl").read_text().splitlines()]
    err_p, err_chance = [], []
    for t in truth:
        w = np.array([t["weights"].get(c, 0.0) for c in CODES])
        P = V.primary_distribution([v["primary"] for v in t["votes"]], CODES)
        err_p.append(np.abs(P - w).sum())
        err_chance.append(np.abs(np.roll(P, 3) - w).sum())
    assert np.mean(err_p) < 0.6 < np.mean(err_chance)


def test_truth_side_file_matches_generated_files(tiny_root):
    counts = json.loads((tiny_root / ".synth.json").read_text())["counts"]
    for name, n in counts.items():
        lines = (tiny_root / ".synth_truth" / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == n
        for rec in map(json.loads, lines):
            assert (tiny_root / rec["wav"]).exists()
            assert sum(rec["blend"].values()) == pytest.approx(1.0)
