"""Augmented copies for a frozen, cached upstream (``augment_copies``; speechbrain_ser/augment.py):
the copies' manifest, each copy's seed, their features in the cache, and a training run on them."""
import json

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from conftest import run
from speechbrain_ser import augment, feature_cache


def _manifest(path, entries):
    path.write_text(json.dumps(entries))
    return path


def test_copies_keep_every_field_and_name_their_suite_and_seed(tmp_path):
    entries = {"a_01": {"wav": "{data_root}/a.wav", "hard": "anger", "speaker": "s1", "corpus": "x"},
               "b_02": {"wav": "{data_root}/b.wav", "hard": "neutral", "speaker": "s2", "corpus": "x"}}
    suite = augment.osman_suite(prob=0.2)
    out = augment.with_copies(_manifest(tmp_path / "train.json", entries), tmp_path / "copies.json", 2, suite)
    rows = json.loads(out.read_text())
    assert list(rows) == ["a_01", "b_02", "a_01@aug1", "a_01@aug2", "b_02@aug1", "b_02@aug2"]
    assert rows["a_01"] == entries["a_01"] and "augment" not in rows["b_02"]
    for uid in ("a_01", "b_02"):
        for k in (1, 2):
            copy = dict(rows[f"{uid}@aug{k}"])
            spec = copy.pop("augment")
            assert copy == entries[uid]
            assert spec == augment.copy_spec(suite, uid, k) and spec.startswith(augment.suite_tag(suite) + ":")
    specs = [r["augment"] for r in rows.values() if "augment" in r]
    assert len(set(specs)) == 4  # a seed of its own for every copy
    # the same suite, another object: the same specs (every run sharing a cache reuses the copies)
    assert augment.copy_spec(augment.osman_suite(prob=0.2), "a_01", 1) == rows["a_01@aug1"]["augment"]
    assert augment.suite_tag(augment.osman_suite(prob=0.5)) != augment.suite_tag(suite)
    mtime = out.stat().st_mtime_ns
    augment.with_copies(tmp_path / "train.json", out, 2, suite)
    assert out.stat().st_mtime_ns == mtime  # unchanged: not rewritten
    bad = _manifest(tmp_path / "bad.json", {"c@aug1": entries["a_01"]})
    with pytest.raises(ValueError, match="c@aug1"):
        augment.with_copies(bad, tmp_path / "bad_copies.json", 1, suite)


def test_a_copy_is_the_suite_under_its_own_seed_and_leaves_the_global_generator_alone():
    flip = augment.IndependentAugment([augment.Polarity()], prob=1.0)
    wav = torch.linspace(-0.5, 0.5, 1600)
    assert torch.equal(augment.apply_copy(flip, wav, augment.copy_spec(flip, "u", 1)), -wav)  # by hand
    suite = augment.osman_suite(prob=0.5)
    spec = augment.copy_spec(suite, "u", 1)
    torch.manual_seed(int(spec.split(":")[1]))
    want = suite(wav[None], torch.ones(1))[0]
    torch.manual_seed(123)
    got = augment.apply_copy(suite, wav, spec)
    after = torch.rand(3)
    torch.manual_seed(123)
    assert torch.equal(after, torch.rand(3))  # the caller's draws are as if no copy was made
    assert torch.equal(got, want) and not torch.equal(got, wav)
    assert torch.equal(augment.apply_copy(suite, wav, spec), got)
    with pytest.raises(ValueError, match="not made by this suite"):
        augment.apply_copy(flip, wav, spec)


class _Double(nn.Module):
    def forward(self, wavs, lens):
        return 2 * wavs


class _Frames(nn.Module):
    """An upstream whose one hidden layer is the waveform cut into 160-sample frames."""

    n_layers = 1

    def forward(self, wavs, lens=None):
        n = wavs.shape[1] // 160 * 160
        return wavs[:, :n].reshape(wavs.shape[0], -1, 160)[None]


def test_the_cache_holds_each_copy_made_from_its_augmented_audio(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        sf.write(tmp_path / f"{name}.wav", rng.uniform(-0.3, 0.3, 3200).astype(np.float32), 16000, subtype="FLOAT")
    entries = {n: {"wav": f"{{data_root}}/{n}.wav", "corpus": "x", "hard": "anger"} for n in ("a", "b")}
    flip = augment.IndependentAugment([augment.Polarity()], prob=1.0)
    hp = {"upstream": _Frames(), "feature_folder": str(tmp_path / "features"), "data_root": str(tmp_path),
          "augment_copies": 1, "wav_augment": flip, "augment": False}
    manifest = augment.with_copies(_manifest(tmp_path / "train.json", entries), tmp_path / "copies.json", 1, flip)
    feats = dict(kaldiio.load_scp_sequential(str(feature_cache.ensure(hp, {"train": manifest})["train"])))
    assert sorted(feats) == ["a", "a@aug1", "b", "b@aug1"]
    for n in ("a", "b"):
        audio = sf.read(tmp_path / f"{n}.wav", dtype="float32")[0]
        assert np.allclose(feats[n], audio.reshape(-1, 160), atol=1e-6)
        assert np.allclose(feats[f"{n}@aug1"], -audio.reshape(-1, 160), atol=1e-6)  # polarity, by hand
    parts = sorted((tmp_path / "features").glob("*/x/part-*"))
    feature_cache.ensure(hp, {"train": manifest})
    assert sorted((tmp_path / "features").glob("*/x/part-*")) == parts  # nothing extracted again
    # another suite: other specs, so the copies are extracted again and the originals are not
    gain = augment.IndependentAugment([_Double()], prob=1.0)
    hp["wav_augment"] = gain
    manifest2 = augment.with_copies(tmp_path / "train.json", tmp_path / "copies2.json", 1, gain)
    feats2 = dict(kaldiio.load_scp_sequential(str(feature_cache.ensure(hp, {"train": manifest2})["train"])))
    assert len(sorted((tmp_path / "features").glob("*/x/part-*"))) == len(parts) + 1
    assert np.allclose(feats2["a@aug1"], 2 * feats["a"], atol=1e-6) and np.allclose(feats2["a"], feats["a"])
    del hp["augment_copies"]
    with pytest.raises(ValueError, match="make no copies"):
        feature_cache.ensure(hp, {"train": augment.with_copies(tmp_path / "train.json", tmp_path / "c3.json", 1,
                                                               augment.IndependentAugment([nn.Identity()], prob=1.0))})


def test_training_on_copies_keeps_the_original_audios_statistics(tmp_path):
    """Stage 3 of the default frozen system with one augmented copy per training utterance: the
    training set holds the originals and their copies, the cache holds copies unlike their originals,
    and the speaker normalisation's training statistics are the originals' only."""
    from speechbrain_ser.speaker_norm import stats_from_cache

    exp = tmp_path / "exp"
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "3", "--exp-dir", str(exp), "--",
             "--number_of_epochs", "1", "--max_seconds", "2.0", "--speaker_norm", "True",
             "--augment_copies", "1", "--augment_prob", "0.5"])
    assert r.returncode == 0, r.stderr[-3000:]
    train = json.loads((exp / "data" / "labels" / "train.json").read_text())
    rows = json.loads((exp / "train" / "train_with_copies.json").read_text())
    assert set(rows) == set(train) | {f"{u}@aug1" for u in train}
    scps = [p for p in (exp / "train" / "features").glob("*/sets/*.scp")
            if {line.split(" ", 1)[0] for line in p.read_text().splitlines()} == set(rows)]
    assert len(scps) == 1
    feats = dict(kaldiio.load_scp_sequential(str(scps[0])))
    changed = [u for u in train if feats[u].shape != feats[f"{u}@aug1"].shape
               or not np.allclose(feats[u], feats[f"{u}@aug1"], atol=1e-4)]
    assert len(changed) > len(train) / 2  # P(no transform) = 0.5 ** 7 per copy
    ckpt = next((exp / "train" / "save").glob("CKPT*/speaker_norm_layer.ckpt"))
    train_stats = torch.load(ckpt)["train_stats"]
    _, originals = stats_from_cache(scps[0], 384, {u: rows[u]["speaker"] for u in train})
    _, with_copies = stats_from_cache(scps[0], 384, {u: e["speaker"] for u, e in rows.items()})
    assert torch.allclose(train_stats, originals, atol=1e-5)
    assert not torch.allclose(train_stats, with_copies, atol=1e-4)
    log = (exp / "train" / "train_log.txt").read_text()
    assert "epoch: 1" in log
