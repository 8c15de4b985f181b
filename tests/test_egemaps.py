"""The eGeMAPS upstream (speechbrain_ser/models/egemaps.py, optional extra `egemaps`): 88
functionals per utterance, each over its own samples, and the baseline trained end to end on the
tiny data with a linear head and per-speaker standardisation."""
import numpy as np
import pytest
import torch

from conftest import run

pytest.importorskip("opensmile", reason="the egemaps extra (opensmile) is not installed")


def _harmonic(f0, seconds):
    t = np.arange(int(16000 * seconds)) / 16000
    return torch.tensor(sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 15)) * 0.1, dtype=torch.float32)


def test_functionals_measure_the_pitch_and_ignore_the_padding():
    from speechbrain.utils.data_utils import batch_pad_right as pad
    from speechbrain_ser.models.egemaps import N_FUNCTIONALS, EgemapsUpstream

    up = EgemapsUpstream()
    a, b = _harmonic(220, 2.0), _harmonic(110, 1.0)
    batch, lens = pad([a, b])
    out = up(batch, lens)
    assert out.shape == (1, 2, 2, N_FUNCTIONALS) == (1, 2, 2, 88) and torch.equal(out[:, :, 0], out[:, :, 1])
    # functional 0 is the mean F0 in semitones above 27.5 Hz: hand values 12 log2(220 / 27.5) = 36, 24
    assert abs(out[0, 0, 0, 0] - 36.0) < 0.1 and abs(out[0, 1, 0, 0] - 24.0) < 0.1
    alone = up(b[None])
    assert torch.allclose(out[0, 1], alone[0, 0], atol=1e-5)  # the padded zeros are not in b's functionals


def test_the_egemaps_baseline_trains_exports_and_predicts(tmp_path):
    exp = tmp_path / "exp"
    r = run(["recipes/Multilingual16/run.sh", "--size", "tiny", "--stop-stage", "4", "--exp-dir", str(exp),
             "--hparams", "hparams/egemaps.yaml", "--", "--number_of_epochs", "2"])
    assert r.returncode == 0, r.stderr[-3000:]
    from speechbrain_ser.inference import load

    model = load(exp / "model")
    assert model.speaker_normalised and model.mods.speaker_norm_layer.train_stats.shape == (2, 1, 88)
    rows = (exp / "train" / "results" / "predictions_test.csv").read_text().splitlines()
    assert len(rows) > 1


def test_whisper_fused_with_egemaps_trains_exports_and_predicts_from_the_audio(tmp_path):
    """``hparams/whisper_egemaps.yaml``: the fused upstream trains through the feature cache and
    exports; the exported model on a file's audio gives what stage 4 computes from the cache."""
    import json

    from conftest import ROOT
    from speechbrain_ser.export import export, read_training
    from speechbrain_ser.feature_cache import cached_hidden
    from speechbrain_ser.inference import load
    from speechbrain_ser.models.fusion import FusedUpstream

    exp = tmp_path / "exp"
    r = run(["recipes/Multilingual16/run.sh", "--size", "tiny", "--stop-stage", "3", "--exp-dir", str(exp),
             "--hparams", "hparams/whisper_egemaps.yaml", "--", "--number_of_epochs", "1", "--max_seconds", "2.0"])
    assert r.returncode == 0, r.stderr[-3000:]
    export(exp / "train", exp / "model")
    model = load(exp / "model")
    assert isinstance(model.mods.upstream, FusedUpstream)
    assert model.speaker_normalised and model.mods.speaker_norm_layer.train_stats.shape == (2, 5, 472)
    data_root = ROOT / "data" / "synth_tiny_real"
    manifest = exp / "data" / "labels" / "dev.json"
    entries = list(json.loads(manifest.read_text()).values())[:3]
    paths = [e["wav"].replace("{data_root}", str(data_root)) for e in entries]
    lookup = cached_hidden(model, read_training(exp / "train")[1], "dev", manifest, data_root)
    assert all(lookup(p) is not None and lookup(p).shape[1:] == (5, 472) for p in paths)
    audio = dict(model.predict_files(paths, 2))
    cached = dict(model.predict_files(paths, 2, hidden=lookup))
    for i in range(len(paths)):
        a, c = audio[i]["probs"], cached[i]["probs"]
        assert max(abs(a[k] - c[k]) for k in a) < 1e-4, (paths[i], a, c)
