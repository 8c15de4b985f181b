"""Speaker normalisation (speechbrain_ser/speaker_norm.py): the statistics, the folded layer sum,
the training statistics = what inference computes, groups at prediction time, stage 4 and ONNX."""
import csv
import json

import numpy as np
import pytest
import torch

from conftest import ROOT, run


def test_frame_stats_are_the_mean_and_std_of_all_frames():
    from speechbrain_ser.speaker_norm import FrameStats

    acc = FrameStats()  # hand-computed: frames 1 and 3 (one utterance each) -> mean 2, std 1
    acc.add(np.array([[[1.0]]]))
    acc.add(np.array([[[3.0]]]))
    assert acc.result().tolist() == [[[2.0]], [[1.0]]]
    rng = np.random.default_rng(0)
    utts = [rng.normal(5.0, 3.0, size=(t, 3, 4)) for t in (5, 17, 1)]  # frames weigh, not utterances
    acc = FrameStats()
    for u in utts:
        acc.add(u)
    cat = np.concatenate(utts)
    got = acc.result().numpy()
    assert np.allclose(got[0], cat.mean(0), atol=1e-5) and np.allclose(got[1], cat.std(0), atol=1e-5)
    assert not np.allclose(got[0], np.mean([u.mean(0) for u in utts], 0), atol=1e-2)
    with pytest.raises(ValueError, match="no frames"):
        FrameStats().result()


def test_group_stats_per_group_and_overall():
    from speechbrain_ser.speaker_norm import group_stats

    frames = [("a1", np.full((2, 1, 1), 1.0)), ("a2", np.full((2, 1, 1), 3.0)), ("b1", np.full((4, 1, 1), 10.0)),
              ("x", np.full((2, 1, 1), -4.0))]
    per, overall = group_stats(frames, {"a1": "A", "a2": "A", "b1": "B", "x": None})
    assert sorted(per) == ["A", "B"]
    assert per["A"].flatten().tolist() == [2.0, 1.0] and per["B"].flatten().tolist() == [10.0, 0.0]
    # overall: frames 1,1,3,3,10,10,10,10,-4,-4 (the ungrouped utterance counts here)
    f = np.array([1, 1, 3, 3, 10, 10, 10, 10, -4, -4], float)
    assert np.allclose(overall.flatten().numpy(), [f.mean(), f.std()], atol=1e-5)


def test_normalised_layer_sum_is_the_weighted_sum_of_standardised_layers():
    from speechbrain_ser.models.heads import WeightedLayerSum

    torch.manual_seed(0)
    ls = WeightedLayerSum(3)
    with torch.no_grad():
        ls.weights.copy_(torch.tensor([0.3, -1.0, 2.0]))
    h = torch.randn(3, 2, 7, 4) * 3 + 1  # (L, B, T, D)
    mean, std = torch.randn(2, 3, 4), torch.rand(2, 3, 4) + 0.5  # (B, L, D), per utterance
    w = torch.softmax(ls.weights.detach(), 0)
    want = sum(w[i] * (h[i] - mean[:, i, None, :]) / std[:, i, None, :] for i in range(3))
    speaker_stats = torch.stack([mean, std], 1)  # (B, 2, L, D)
    assert torch.allclose(ls(h, speaker_stats=speaker_stats), want, atol=1e-5)
    assert torch.allclose(ls(h.half(), speaker_stats=speaker_stats), want, atol=2e-2)  # the float16 cache as it is served
    assert not torch.allclose(ls(h), want, atol=1e-2)
    # the layer weights' gradient through the folded form (the frozen features' own backward) equals
    # autograd's through the standardised layers written out
    g = torch.randn(2, 7, 4)
    (ls(h.half(), speaker_stats=speaker_stats) * g).sum().backward()
    weights = ls.weights.detach().clone().requires_grad_()
    hs = h.half().float()
    sw = torch.softmax(weights, 0)
    (sum(sw[i] * (hs[i] - mean[:, i, None, :]) / std[:, i, None, :] for i in range(3)) * g).sum().backward()
    assert weights.grad.abs().min() > 1e-3 and torch.allclose(ls.weights.grad, weights.grad, rtol=1e-4, atol=1e-5)
    # selected layers: statistics over the used layers only
    sel = WeightedLayerSum(5, layers=[1, 3])
    h5 = torch.randn(5, 2, 6, 4)
    m2, s2 = torch.randn(2, 2, 4), torch.rand(2, 2, 4) + 0.5
    w2 = torch.softmax(sel.weights.detach(), 0)
    want2 = sum(w2[j] * (h5[k] - m2[:, j, None, :]) / s2[:, j, None, :] for j, k in enumerate([1, 3]))
    assert torch.allclose(sel(h5, speaker_stats=torch.stack([m2, s2], 1)), want2, atol=1e-5)


def test_speaker_norm_falls_back_to_training_statistics_and_floors_the_std():
    from speechbrain_ser.speaker_norm import STD_FLOOR, SpeakerNorm

    sn = SpeakerNorm(2, 3)
    train = torch.stack([torch.full((2, 3), 5.0), torch.full((2, 3), 2.0)])
    sn.train_stats.copy_(train)
    assert torch.equal(sn(None, 4), train.expand(4, -1, -1, -1))
    own = torch.stack([torch.zeros(2, 3), torch.zeros(2, 3)])  # std 0: floored
    nan = torch.full_like(own, float("nan"))
    out = sn(torch.stack([own, nan]), 2)
    assert torch.equal(out[1], train)
    assert torch.equal(out[0, 0], own[0]) and torch.all(out[0, 1] == STD_FLOOR)
    state = sn.state_dict()
    assert "train_stats" in state  # saved with the model (checkpoint and export)


def test_lone_training_share_gives_utterances_the_training_statistics():
    """``speaker_norm_lone_train`` p: in training, a share p of the utterances is normalised with the
    training statistics (NaN rows for SpeakerNorm), the rest with their speaker's."""
    from speechbrain_ser.speaker_norm import SpeakerNorm, SpeakerNormalizer

    own = torch.arange(4000, dtype=torch.float32).reshape(1000, 2, 1, 2) + 1.0

    def lone(p):
        torch.manual_seed(0)
        out = SpeakerNormalizer(SpeakerNorm(1, 2), lone_train=p).training_view(own)
        return torch.isnan(out).flatten(1).all(1), out

    none, out = lone(0.0)
    assert not none.any() and torch.equal(out, own)
    every, _ = lone(1.0)
    assert every.all()
    half, out = lone(0.3)
    assert 250 < int(half.sum()) < 350  # 300 expected; binomial sd 14.5
    assert torch.equal(out[~half], own[~half])  # the others keep their own statistics, unchanged
    sn = SpeakerNorm(1, 2)
    sn.train_stats.copy_(torch.tensor([[[7.0, 8.0]], [[2.0, 3.0]]]))
    normed = sn(out, out.shape[0])
    assert torch.equal(normed[half], sn.train_stats.expand(int(half.sum()), -1, -1, -1))


@pytest.fixture(scope="module")
def normed(tmp_path_factory):
    """Stages 0-5 of the recipe's default (real voices, the frozen speaker-normalised system) on the
    tiny data (1 epoch, 3 s)."""
    exp = tmp_path_factory.mktemp("speaker_norm") / "exp"
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "5", "--exp-dir", str(exp), "--",
             "--number_of_epochs", "1", "--max_seconds", "3.0", "--speaker_norm", "True"])
    assert r.returncode == 0, r.stderr[-3000:]
    return exp


@pytest.fixture(scope="module")
def real_system(tmp_path_factory):
    """Stages 0-4 of the system for real corpora (``whisper_tiny_frozen_real.yaml``: silence
    trimmed, an MLP head, half the training utterances normalised as lone files) on the tiny data
    (1 epoch, 3 s)."""
    exp = tmp_path_factory.mktemp("real_system") / "exp"
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "4", "--exp-dir", str(exp),
             "--hparams", "hparams/whisper_tiny_frozen_real.yaml", "--",
             "--number_of_epochs", "1", "--max_seconds", "3.0"])
    assert r.returncode == 0, r.stderr[-3000:]
    return exp


@pytest.fixture(scope="module")
def top_layer(tmp_path_factory):
    """The system for real corpora with tiny.en's top layer fine-tuned on the cached states below it
    (``--trainable_layers 1``), stages 0-4 on the tiny data (2 epochs, 3 s)."""
    exp = tmp_path_factory.mktemp("top_layer") / "exp"
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "4", "--exp-dir", str(exp),
             "--hparams", "hparams/whisper_tiny_frozen_real.yaml", "--",
             "--number_of_epochs", "2", "--max_seconds", "3.0", "--trainable_layers", "1"])
    assert r.returncode == 0, r.stderr[-3000:]
    return exp


def _entries(exp, name):
    return json.loads((exp / "data" / "labels" / f"{name}.json").read_text())


def _path(e):
    return e["wav"].replace("{data_root}", str(ROOT / "data" / "synth_tiny_real"))


def test_the_default_models_card_says_what_was_measured_on_it(normed, tmp_path):
    """The recipe's default (real voices): the card names the data (from the generator's marker) and
    says it is not for real-world use. A fresh 1-epoch model claims no real-speech figure; a
    measurement of its own weights enters the card and survives a re-export of the same checkpoint;
    a measurement of other weights does not."""
    import shutil

    from speechbrain_ser.export import export, real_speech_measurement, record_real_speech, weights_key

    card = (normed / "model" / "README.md").read_text()
    assert "real human voices from Debian packages" in card and "not for real-world use" in card
    assert "speaker normalisation" in card and "Not measured on real speech" in card and "0.194" not in card
    model = tmp_path / "model"
    shutil.copytree(normed / "model", model)
    record_real_speech(model, ["- lone, ravdess: UAR 0.321 [0.300, 0.340]"], "python benchmarks/model_on_real.py")
    card = (model / "README.md").read_text()
    assert "UAR 0.321" in card and "Not measured" not in card and "## Results (stage 5" in card
    assert json.loads((model / "real_speech.json").read_text())["weights"] == weights_key(model)
    export(normed / "train", model, force=True)  # same weights: the measurement is kept
    assert "UAR 0.321" in (model / "README.md").read_text()
    (model / "head.ckpt").write_bytes((model / "head.ckpt").read_bytes() + b"\0")  # other weights
    assert real_speech_measurement(model) is None


def _set_scp(feature_folder, entries):
    """The feature cache's scp of the set holding exactly ``entries`` (feature_cache.ensure)."""
    found = [p for p in feature_folder.glob("*/sets/*.scp")
             if {line.split(" ", 1)[0] for line in p.read_text().splitlines()} == set(entries)]
    assert len(found) == 1, found
    return found[0]


def test_training_statistics_are_what_inference_computes(normed):
    """The model's fallback = the statistics of all training frames; a speaker's statistics from
    the training cache = ``group_stats`` on that speaker's audio through the exported model."""
    from speechbrain_ser.inference import load
    from speechbrain_ser.speaker_norm import stats_from_cache

    model = load(normed / "model")
    assert model.speaker_normalised and model.speaker_norm_group == "speaker"
    train = _entries(normed, "train")
    scp = _set_scp(normed / "train" / "features", train)
    per, overall = stats_from_cache(scp, 384, {u: e["speaker"] for u, e in train.items()})
    fallback = model.mods.speaker_norm_layer.train_stats
    assert fallback.shape == (2, 5, 384) and torch.allclose(fallback, overall, atol=1e-5)
    assert fallback[1].min() > 0 and not torch.allclose(fallback[0], torch.zeros_like(fallback[0]))
    speaker = sorted(per)[0]
    paths = [_path(e) for e in train.values() if e["speaker"] == speaker]
    got = model.group_stats(paths)
    assert len(paths) >= 2 and torch.allclose(got, per[speaker], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(got, overall, atol=1e-2)  # a speaker's statistics are not the corpus's


def test_a_model_folder_with_the_old_speaker_normalisation_names_still_loads(normed, tmp_path):
    """A model exported when the module was ``feature_norm`` and the group key ``norm_group``
    (hyperparams.yaml and feature_norm.ckpt as such folders hold them) loads and predicts as the
    same weights under today's names."""
    import shutil

    from speechbrain_ser.inference import load

    old = tmp_path / "old_model"
    shutil.copytree(normed / "model", old)
    text = (old / "hyperparams.yaml").read_text()
    assert "speaker_norm_layer" in text and "speaker_norm_group: speaker" in text
    (old / "hyperparams.yaml").write_text(text.replace("speaker_norm_layer", "feature_norm")
                                          .replace("speaker_norm_group: speaker", "norm_group: corpus"))
    (old / "speaker_norm_layer.ckpt").rename(old / "feature_norm.ckpt")
    new_model, old_model = load(normed / "model"), load(old, tmp_path / "collect")
    assert old_model.speaker_normalised and "feature_norm" not in old_model.mods
    assert old_model.speaker_norm_group == "corpus"
    assert torch.equal(old_model.mods.speaker_norm_layer.train_stats, new_model.mods.speaker_norm_layer.train_stats)
    test = _entries(normed, "test")
    paths = [_path(e) for e in list(test.values())[:4]]
    groups = [e["speaker"] for e in list(test.values())[:4]]
    for kw in ({}, {"groups": groups}):
        a = dict(new_model.predict_files(paths, 4, crop=True, **kw))
        b = dict(old_model.predict_files(paths, 4, crop=True, **kw))
        assert all(max(abs(a[i]["probs"][c] - b[i]["probs"][c]) for c in new_model.classes) < 1e-6 for i in a)


def test_a_prediction_depends_on_its_group_never_on_its_batch(normed):
    from speechbrain_ser.inference import load

    model = load(normed / "model")
    model.calibrated = False  # the raw softmax: a 1-epoch model's calibrated outputs are nearly flat
    test = _entries(normed, "test")
    ids = list(test)[:12]
    paths, groups = [_path(test[u]) for u in ids], [test[u]["speaker"] for u in ids]
    assert len(set(groups)) >= 2
    # by hand: each file alone, with its group's statistics
    stats = {g: model.group_stats([p for p, h in zip(paths, groups) if h == g]) for g in set(groups)}
    want = [model.predict_batch(model.load_audio(p)[None], None, None, stats[g][None])[0]["probs"]
            for p, g in zip(paths, groups)]

    def probs(ps, gs, bs):  # each file's first max_seconds, as by hand (longer files' windows: stage 4's test)
        out = [None] * len(ps)
        for i, r in model.predict_files(ps, bs, groups=gs, crop=True):
            out[i] = np.array([r["probs"][c] for c in model.classes])
        return np.array(out)

    w = np.array([[p[c] for c in model.classes] for p in want])
    assert np.abs(probs(paths, groups, 8) - w).max() < 1e-4
    order = list(reversed(range(len(ids))))
    assert np.abs(probs([paths[i] for i in order], [groups[i] for i in order], 3) - w[order]).max() < 1e-4
    # move file 0 to a group of its own: it and its former group-mates change, the rest do not
    moved = list(groups)
    moved[0] = "alone"
    p2 = probs(paths, moved, 8)
    mates = [i for i in range(1, len(ids)) if groups[i] == groups[0]]
    others = [i for i in range(1, len(ids)) if groups[i] != groups[0]]
    assert np.abs(p2[0] - w[0]).max() > 5e-4
    assert mates and max(np.abs(p2[i] - w[i]).max() for i in mates) > 5e-5
    assert max(np.abs(p2[i] - w[i]).max() for i in others) < 2e-6
    # no group = the training statistics, whatever the other files' groups
    none = probs(paths, [None] + groups[1:], 8)[0]
    alone = probs(paths[:1], None, 1)[0]
    assert np.abs(none - alone).max() < 1e-5 and np.abs(alone - w[0]).max() > 1e-4
    with pytest.raises(ValueError, match="groups for"):
        next(iter(model.predict_files(paths, 8, groups=groups[:3])))


def test_stage_4_normalises_by_speaker_and_onnx_uses_the_training_statistics(normed, tmp_path):
    from speechbrain.utils.data_utils import batch_pad_right as pad
    from speechbrain_ser.inference import load
    from speechbrain_ser.onnx_export import OnnxRecognizer

    model = load(normed / "model")
    results = normed / "train" / "results"
    name = next(n for n in ("test", "zeroshot_emodb") if (results / f"predictions_{n}.csv").exists())
    entries = _entries(normed, name)
    ids = list(entries)
    # both scoring modes: lone (each file alone, no groups: what ser-predict FILE gives) in
    # predictions_<set>.csv, speaker (grouped by the manifest's speaker) in speaker/predictions_<set>.csv
    for path, groups in ((results / f"predictions_{name}.csv", None),
                         (results / "speaker" / f"predictions_{name}.csv", [entries[u]["speaker"] for u in ids])):
        rows = {r["id"]: r for r in csv.DictReader(open(path))}
        got = {}
        for i, r in model.predict_files([_path(entries[u]) for u in ids], 8, groups=groups):
            got[ids[i]] = r["probs"]
        # every file, also those longer than the 3 s crop (the mean of their windows' calibrated
        # outputs, as the loaded model gives them; stage 4 once scaled the mean instead: ~2e-4 apart)
        assert sum(entries[u]["duration"] > 3.0 for u in ids) >= 2
        diff = max(abs(float(rows[u][f"p_{c}"]) - got[u][c]) for u in ids for c in model.classes)
        assert diff < 2e-5, f"stage 4's {path} predictions are not what the loaded model gives ({diff})"
    lone = {r["id"]: r for r in csv.DictReader(open(results / f"predictions_{name}.csv"))}
    grouped = {r["id"]: r for r in csv.DictReader(open(results / "speaker" / f"predictions_{name}.csv"))}
    assert max(abs(float(lone[u][f"p_{c}"]) - float(grouped[u][f"p_{c}"])) for u in ids for c in model.classes) > 1e-4
    # every score table says its mode; lone rows first; the report says what transductive means
    table = list(csv.DictReader(open(results / "zero_shot.csv")))
    assert [r["mode"] for r in table] == sorted((r["mode"] for r in table), key=["lone", "speaker"].index)
    assert {r["mode"] for r in table} == {"lone", "speaker"}
    assert {r["mode"] for r in csv.DictReader(open(results / "calibration.csv"))} == {"lone", "speaker"}
    assert all(r["fitted_on"].startswith("lone dev") for r in csv.DictReader(open(results / "calibration.csv")))
    report = (normed / "report" / "report.md").read_text()
    assert "transductive" in report and "| lone |" in report and "| speaker |" in report
    # ONNX: the graph normalises with the training statistics = torch without groups
    onnx = OnnxRecognizer(normed / "model")
    wavs = [model.load_audio(_path(entries[u])) for u in ids[:4]]
    b, lens = pad(wavs)
    assert (onnx.forward_batch(b, lens)["probs"] - model.forward_batch(b, lens)["probs"]).abs().max() < 1e-4
    with pytest.raises(NotImplementedError, match="PyTorch backend"):
        onnx.predict_files([_path(entries[ids[0]])], groups=["x"])
    card = (normed / "model" / "README.md").read_text()
    assert "speaker normalisation" in card
    # ser-predict --groups folder: the files of one folder are one group
    folder = tmp_path / "spk"
    folder.mkdir()
    same = [u for u in ids if entries[u]["speaker"] == entries[ids[0]]["speaker"]][:3]
    for u in same:
        (folder / f"{u}.wav").symlink_to(_path(entries[u]))
    out = tmp_path / "p.csv"
    r = run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(normed / "model"), str(folder),
             "--groups", "folder", "--out", str(out)])
    assert r.returncode == 0, r.stderr[-2000:]
    want = {i: res["probs"] for i, res in model.predict_files([str(folder / f"{u}.wav") for u in same], 8,
                                                                groups=["g"] * len(same))}
    assert "alone in their group" not in r.stderr
    for row in csv.DictReader(open(out)):
        k = same.index(row["id"])
        assert max(abs(float(row[f"p_{c}"]) - want[k][c]) for c in model.classes) < 2e-5 and row["mode"] == "speaker"
    # one file alone in its folder: normalised by itself, which the user is told
    r = run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(normed / "model"),
             str(folder / f"{same[0]}.wav"), "--groups", "folder"])
    assert r.returncode == 0 and "1 file(s) alone in their group" in r.stderr, r.stderr[-2000:]
    r = run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(normed / "model"), str(folder),
             "--groups", "folder", "--backend", "onnx"])
    assert r.returncode != 0 and "--groups is for speaker-normalised models" in r.stderr


def test_a_fine_tuned_top_layer_is_normalised_with_its_own_statistics(top_layer):
    """Only the top layer (and the final layer norm) moved from the pretrained weights; the model's
    training statistics are those of the training audio through the exported (fine-tuned)
    upstream, as ``ser-predict`` computes them: recomputed after training, not the pretrained
    cache's, which still hold for the frozen layers below."""
    from speechbrain_ser.inference import load
    from speechbrain_ser.models.upstream import WhisperUpstream
    from speechbrain_ser.models.whisper_ct2 import whisper_tiny_source
    from speechbrain_ser.speaker_norm import stats_from_cache

    model = load(top_layer / "model")
    pretrained = WhisperUpstream(whisper_tiny_source()).state_dict()
    changed = {k for k, v in model.mods.upstream.state_dict().items() if not torch.equal(v, pretrained[k])}
    assert changed and all(k.startswith(("model.encoder.layers.3.", "model.encoder.layer_norm.")) for k in changed)
    assert "top 1 transformer layer(s) fine-tuned" in (top_layer / "model" / "README.md").read_text()
    train = _entries(top_layer, "train")
    ours = model.group_stats([_path(e) for e in train.values()])  # every training file: the training statistics
    fallback = model.mods.speaker_norm_layer.train_stats
    assert torch.allclose(fallback, ours, atol=1e-3, rtol=1e-3), (fallback - ours).abs().max()
    _, cached = stats_from_cache(_set_scp(top_layer / "train" / "features", train), 384, {u: None for u in train})
    assert torch.allclose(fallback[:, :4], cached[:, :4], atol=1e-4)  # frozen layers: the cache's
    assert not torch.allclose(fallback[:, 4], cached[:, 4], atol=1e-3)  # the fine-tuned layer: its own


@pytest.mark.parametrize("system", ["normed", "real_system", "top_layer"])
def test_stage_4_from_the_feature_cache_is_the_model_on_the_audio(system, request):
    """Stage 4 reads a cached frozen upstream's hidden states instead of running it again: every
    prediction (lone and grouped by speaker) is the exported model's on the audio, to 1e-4. With
    silence trimming (the system for real corpora) the cache holds the trimmed audio's states and
    the exported model trims a file the same way."""
    from speechbrain_ser.audio import speech_span
    from speechbrain_ser.export import read_training
    from speechbrain_ser.feature_cache import cached_hidden
    from speechbrain_ser.inference import load

    exp = request.getfixturevalue(system)
    model = load(exp / "model")
    model.calibrated = False
    manifest = exp / "data" / "labels" / "test.json"
    entries = _entries(exp, "test")
    data_root = ROOT / "data" / "synth_tiny_real"
    training = read_training(exp / "train")[1]
    if system in ("real_system", "top_layer"):
        card = (exp / "model" / "README.md").read_text()
        assert model.trim_db == 40 and "silence trimmed" in card
        assert "50% of the training utterances (drawn anew each batch) with the training statistics" in card
        cut = [e["duration"] - (b - a) for e in entries.values() for a, b in [speech_span(_path(e), model.trim_db)]]
        assert max(cut) > 0.05, cut  # trimming shortens files here, so a cache of untrimmed audio would differ
    lookup = cached_hidden(model, training, "test", manifest, data_root)
    hits = []

    def hidden(path):
        h = lookup(path)
        hits.append(h is not None)
        return h

    assert lookup("/not/in/the/set.wav") is None
    paths = [_path(e) for e in entries.values()]
    groups = [e["speaker"] for e in entries.values()]
    for g in (None, groups):
        audio = dict(model.predict_files(paths, 4, groups=g))
        cached = dict(model.predict_files(paths, 4, groups=g, hidden=hidden))
        assert sorted(audio) == sorted(cached) == list(range(len(paths)))
        for i in audio:
            a, c = audio[i]["probs"], cached[i]["probs"]
            assert max(abs(a[k] - c[k]) for k in a) < 1e-4, (paths[i], a, c)
            assert audio[i]["label"] == cached[i]["label"]
    assert sum(hits) > 0  # the cache served files (those no longer than the crop)
