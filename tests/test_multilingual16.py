"""Multilingual16 end to end on the tiny data: debug runs of every hparams file,
resume, DDP with 2 CPU processes, zero-shot scoring and the report."""
import csv
import json
import re
import zipfile

import pytest

from conftest import ROOT, run

RECIPE = ROOT / "recipes" / "Multilingual16"
HPARAMS = sorted(p for p in (RECIPE / "hparams").glob("*.yaml") if p.name != "base.yaml")
TINY_KIND = {"whisper_large_v3.yaml": "whisper-large-v3", "whisper_medium.yaml": "whisper",
             "wavlm_large.yaml": "wavlm"}


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    """Stages 0-2 on the tiny data (shared by the debug runs)."""
    exp = tmp_path_factory.mktemp("ml16")
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "2", "--exp-dir", str(exp), "--synth-voices", "espeak"])
    assert r.returncode == 0, r.stderr[-2000:]
    return exp


def _train(hparams, labels, out, *extra):
    """A debug run: 2 epochs, batches of 4, utterances cut to 2 s (``extra`` overrides)."""
    opts = {"--labels_folder": str(labels / "data" / "labels"), "--data_root": str(ROOT / "data" / "synth_tiny"),
            "--output_folder": str(out), "--number_of_epochs": "2", "--batch_size": "4", "--max_seconds": "2.0"}
    opts.update(dict(zip(extra[::2], extra[1::2])))
    py = str(ROOT / ".venv" / "bin" / "python")
    return run([py, "-m", "speechbrain_ser.train", str(hparams), "--device", "cpu"]
               + [x for kv in opts.items() for x in kv])


def _predict(brain, dataset, batch_size):
    """(ids, class scores through the head's output function) of a Brain's forward in eval mode."""
    import speechbrain as sb
    import torch

    from speechbrain_ser.losses import head_output

    brain.modules.eval()
    ids, probs = [], []
    with torch.no_grad():
        for batch in sb.dataio.dataloader.make_dataloader(dataset, batch_size=batch_size):
            ids += batch.id
            probs.append(head_output(brain.hparams.compute_cost)(brain.compute_forward(batch, sb.Stage.TEST)["logits"]))
    return ids, torch.cat(probs).numpy()


def test_every_hparams_file_loads_and_overrides_are_checked():
    from speechbrain_ser.hparams import merged_text
    for hp in HPARAMS + [RECIPE / "hparams" / "base.yaml"]:
        text = merged_text(hp, {"output_folder": "o", "labels_folder": "l", "data_root": "d"})
        assert "upstream" in text
    with pytest.raises(KeyError, match="number_of_epoch"):
        merged_text(HPARAMS[0], {"number_of_epoch": 3})


# Long checks (./tests/run.sh --long): the GPU systems whisper_large_v3 / whisper_medium (tiny
# random stand-ins, the Whisper path of whisper_tiny), wavlm_large (the WavLM path of MSP-Podcast's
# wavlm_kld_secondary_sampler debug run, also trained in test_predictions_do_not_depend_on_the_batch)
# and whisper_tiny itself, whose 2-epoch debug run is test_resume_after_interruption's second run
# (the same checks) and is also trained by test_run_sh_tiny_end_to_end.
# whisper_egemaps is trained (and exported) by test_egemaps.py's fused-system test, and
# whisper_tiny_frozen_real (silence trimmed as in whisper_tiny_frozen_trimmed, which runs here) by
# test_speaker_norm.py's `real_system` fixture.
LONG_DEBUG_RUNS = {"whisper_large_v3", "whisper_medium", "wavlm_large", "whisper_tiny", "whisper_egemaps",
                   "whisper_tiny_frozen_real"}


@pytest.mark.parametrize("hp", [pytest.param(p, marks=pytest.mark.long) if p.stem in LONG_DEBUG_RUNS else p
                                for p in HPARAMS], ids=[p.stem for p in HPARAMS])
def test_debug_run_of_every_hparams_file(hp, labels, tmp_path):
    extra = []
    if hp.name in TINY_KIND:  # GPU configs: same code path, a tiny random model of the same architecture
        from speechbrain_ser.models.tiny import make_tiny
        src = make_tiny(TINY_KIND[hp.name], tmp_path / "tiny_model")
        extra = ["--upstream_source", str(src), "--encoder_dim", "32", "--encoder_layers", "3",
                 "--trainable_layers", "1"]
    out = tmp_path / "run"
    r = _train(hp, labels, out, *extra)
    assert r.returncode == 0, r.stderr[-3000:]
    _check_debug_run(out)


def _check_debug_run(out):
    log = (out / "train_log.txt").read_text()
    assert "epoch: 2" in log and "valid macro_f1" in log
    # num_to_keep=1: the best checkpoint by the selection key, plus the most recent one when it
    # is not the best (SpeechBrain keeps it for resuming)
    assert 1 <= len(list((out / "save").glob("CKPT+*"))) <= 2
    assert (out / "hyperparams.yaml").exists()


def test_a_wrong_encoder_layers_fails_when_the_brain_is_built(labels, tmp_path):
    """5 weights on Whisper tiny's 5 hidden states train; 3 would silently weight the bottom 3."""
    r = _train(RECIPE / "hparams" / "whisper_tiny.yaml", labels, tmp_path / "t", "--encoder_layers", "3")
    assert r.returncode != 0
    assert "encoder_layers is 3 but the WhisperUpstream returns 5 hidden states" in r.stderr, r.stderr[-1500:]
    # refused before anything was recorded (SpeechBrain's Checkpointer may have made the empty save/ folder)
    assert not [p for p in (tmp_path / "t").rglob("*") if p.is_file()]


def test_resume_after_interruption(labels, tmp_path):
    """1 epoch, then resumed to 2, ends with the weights of 2 epochs in one go: the checkpoint holds the
    random generators' state too (dropout, augmentation and crops of epoch 2 are the same draws)."""
    hp = RECIPE / "hparams" / "whisper_tiny.yaml"
    out = tmp_path / "run"
    r = _train(hp, labels, out, "--number_of_epochs", "1")
    assert r.returncode == 0, r.stderr[-2000:]
    r = _train(hp, labels, out)  # 2 epochs: continues at epoch 2
    assert r.returncode == 0, r.stderr[-2000:]
    epochs = re.findall(r"^epoch: (\d+)", (out / "train_log.txt").read_text(), re.M)
    assert epochs == ["1", "2"]
    assert "Loading a checkpoint" in (out / "log.txt").read_text() or "Would load" in r.stderr
    _check_debug_run(out)  # whisper_tiny's debug run
    straight = tmp_path / "straight"
    r = _train(hp, labels, straight)
    assert r.returncode == 0, r.stderr[-2000:]
    _assert_same_weights(_latest_weights(out), _latest_weights(straight))


def test_ddp_two_cpu_processes(labels, tmp_path):
    torchrun = str(ROOT / ".venv" / "bin" / "torchrun")
    out = tmp_path / "ddp"
    r = run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "speechbrain_ser.train",
             str(RECIPE / "hparams" / "whisper_tiny.yaml"), "--labels_folder", str(labels / "data" / "labels"),
             "--data_root", str(ROOT / "data" / "synth_tiny"), "--output_folder", str(out),
             "--number_of_epochs", "1", "--batch_size", "4", "--max_seconds", "2.0",
             "--distributed_backend", "gloo"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(list((out / "save").glob("CKPT+*"))) == 1
    assert len(re.findall(r"^epoch: 1", (out / "train_log.txt").read_text(), re.M)) == 1


def test_ddp_with_heads_without_loss_equals_one_process(labels, tmp_path):
    """Two gloo processes against one process that runs the same micro-batches of 4 one after the
    other and accumulates their gradients (``grad_accumulation_factor 2``: the DDP average; each
    micro-batch's BatchNorm statistics, in the attentive pooling, are those of that micro-batch, as on
    each process). 16 utterances cropped to 1 s (no padding); in the first step no utterance of process
    0 has a known gender or speaker, so those heads get no loss there while process 1's do (DDP's
    reduction must still find their parameters on process 0, or the processes wait on each other), and
    Whisper's fine-tuned top layer is DDP-wrapped. The parameters after the two steps agree to 1e-5."""
    import shutil


    lab = tmp_path / "labels"
    shutil.copytree(labels / "data" / "labels", lab)
    train = json.loads((lab / "train.json").read_text())
    long = [u for u, e in train.items() if e["duration"] >= 1.0 and e.get("speaker") and e.get("gender")
            and e.get("hard")]
    assert len(long) >= 16
    chosen = {}
    for i, u in enumerate(long[:16]):
        e = dict(train[u])
        if i < 8 and i % 2 == 0:  # the first step of process 0: no gender, no speaker (process 1 has them)
            e["gender"], e["speaker"] = None, None
        chosen[u] = e
    (lab / "train.json").write_text(json.dumps(chosen))
    # one process: process 0's micro-batch, then process 1's (DistributedSampler deals 0, 2, 4, ... to process 0)
    lab1 = tmp_path / "labels_one"
    shutil.copytree(lab, lab1)
    ids = list(chosen)
    order = [ids[i] for step in (0, 8) for rank in (0, 1) for i in range(step + rank, step + 8, 2)]
    (lab1 / "train.json").write_text(json.dumps({u: chosen[u] for u in order}))
    hp = tmp_path / "with_speaker_head.yaml"
    hp.write_text(f"extends: {RECIPE / 'hparams' / 'whisper_tiny.yaml'}\n"
                  "n_speakers: 1\nspeaker_head: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier\n"
                  "    input_size: !ref <emb_dim>\n    lin_blocks: 0\n    out_neurons: !ref <n_speakers>\n"
                  # plain SGD: Adam's first steps are lr x sign(gradient), which float noise flips where a
                  # gradient is ~0; SGD's weights differ by lr x the gradients' difference
                  "opt_class: !name:torch.optim.SGD\nlr: 0.5\nlr_upstream: 0.05\n")
    common = ["--data_root", str(ROOT / "data" / "synth_tiny"), "--batch_size", "4",
              "--number_of_epochs", "1", "--max_seconds", "1.0", "--sorting", "manifest", "--augment", "False",
              "--dropout", "0.0", "--gender_weight", "0.1", "--speaker_weight", "0.1"]
    py, torchrun = str(ROOT / ".venv" / "bin" / "python"), str(ROOT / ".venv" / "bin" / "torchrun")
    r = run([py, "-m", "speechbrain_ser.train", str(hp), "--device", "cpu", "--output_folder", str(tmp_path / "one"),
             "--labels_folder", str(lab1), "--grad_accumulation_factor", "2", *common])
    assert r.returncode == 0, r.stderr[-3000:]
    r = run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "speechbrain_ser.train", str(hp),
             "--output_folder", str(tmp_path / "two"), "--labels_folder", str(lab), "--distributed_backend", "gloo",
             *common], timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    one, two = _latest_weights(tmp_path / "one"), _latest_weights(tmp_path / "two")
    for name in ("head.ckpt", "gender_head.ckpt", "speaker_head.ckpt", "upstream.ckpt", "layer_sum.ckpt",
                 "pooler.ckpt", "domain_head.ckpt"):
        params = [k for k in one[name] if "running_" not in k and "num_batches" not in k]  # BatchNorm's statistics
        assert params and one[name].keys() == two[name].keys(), name
        for k in params:
            assert (one[name][k] - two[name][k]).abs().max() < 1e-5, (name, k, (one[name][k] - two[name][k]).abs().max())


def test_run_sh_tiny_end_to_end(tmp_path):
    """The default system (real voices with rendered emotion, frozen speaker-normalised Whisper
    tiny.en) through ./run.sh on the tiny data, as the README's command runs it on mini."""
    exp = tmp_path / "exp"
    r = run(["./run.sh", "--size", "tiny", "--exp-dir", str(exp), "--", "--number_of_epochs", "2"])
    assert r.returncode == 0, r.stderr[-3000:]
    rows = list(csv.DictReader(open(exp / "train" / "results" / "zero_shot.csv")))
    zs = {r["name"] for r in rows if r["set"].startswith("zeroshot_") and r["level"] == "corpus"}
    assert zs == {"emodb", "aesdd", "urdu", "subesco"}
    urdu = next(r for r in rows if r["name"] == "urdu" and r["level"] == "corpus")
    assert urdu["n_classes"] == "4" and float(urdu["chance_uar"]) == 0.25
    report = exp / "report"
    for f in ["report.md", "zero_shot_bars.png", "env.json", "command.sh"] + \
             [f"confusion_{c}.png" for c in zs]:
        assert (report / f).stat().st_size > 0, f
    assert "Zero-shot" in r.stdout and "| emodb |" in r.stdout
    assert "## Calibration" in r.stdout and "One temperature T =" in r.stdout
    assert "## Emotion over time" in r.stdout and "| zeroshot (all held-out) | all |" in r.stdout
    assert "--exp-dir" in (report / "command.sh").read_text()
    assert json.loads((report / "env.json").read_text())["torch"]
    # a finished experiment: rerunning from stage 3 does nothing, says so, and rewrites nothing
    stamps = {f: f.stat().st_mtime_ns for f in (exp / "train").rglob("*") if f.is_file()}
    stamps.update({f: f.stat().st_mtime_ns for f in report.rglob("*")})
    again = run(["./run.sh", "--size", "tiny", "--exp-dir", str(exp), "--stage", "3", "--", "--number_of_epochs", "2"])
    assert again.returncode == 0, again.stderr[-3000:]
    said = again.stdout + again.stderr
    for stage in ("stage 3:", "stage 4:", "stage 5:"):
        assert re.search(stage + r".*nothing to do", said), (stage, said[-2000:])
    assert stamps == {f: f.stat().st_mtime_ns for f in stamps}


def test_training_folder_refuses_other_options(labels, tmp_path):
    hp = RECIPE / "hparams" / "whisper_tiny.yaml"
    edited = tmp_path / "whisper_tiny.yaml"  # a copy of the system file, edited below
    edited.write_text(hp.read_text().replace("extends: base.yaml", f"extends: {RECIPE / 'hparams' / 'base.yaml'}"))
    out = tmp_path / "run"
    assert _train(edited, labels, out, "--number_of_epochs", "1").returncode == 0
    r = _train(edited, labels, out, "--number_of_epochs", "1")
    assert r.returncode == 0 and "nothing to do" in r.stdout  # finished, same options
    r = _train(edited, labels, out, "--number_of_epochs", "1", "--lr", "0.01")
    assert r.returncode != 0 and "other options (lr)" in r.stderr
    # the same path with other content (the guard records the content, not just the path)
    edited.write_text(edited.read_text() + "\nlr_upstream: 0.00007\n")
    r = _train(edited, labels, out, "--number_of_epochs", "1")
    assert r.returncode != 0 and "hparams content" in r.stderr


# ---- frozen-upstream feature cache (speechbrain_ser/feature_cache.py) ---------------------
FROZEN = ["--cache_features", "True", "--augment", "False", "--trainable_layers", "0"]


def _brain(labels, out, *extra):
    from speechbrain_ser.train import build

    opts = {"--labels_folder": str(labels / "data" / "labels"), "--data_root": str(ROOT / "data" / "synth_tiny"),
            "--output_folder": str(out), "--max_seconds": "2.0", "--feature_folder": str(out / "feats")}
    opts.update(dict(zip(extra[::2], extra[1::2])))
    argv = [str(RECIPE / "hparams" / "whisper_tiny.yaml"), "--device", "cpu"] + [x for kv in opts.items() for x in kv]
    hp, brain, domains, lab = build(argv, for_training=False)
    return hp, brain, domains, lab


def test_training_leaves_its_hparams_as_loaded(labels, tmp_path):
    """What training derives (the class weights, the speakers, the augmentation it runs) is given to
    the Brain at construction; the loaded hparams keep what the file and the overrides say."""
    import torch
    from speechbrain_ser.hparams import load_hparams
    from speechbrain_ser.stage import read_entries

    hp, brain, _, lab = _brain(labels, tmp_path / "run", *FROZEN, "--augment_copies", "1", "--class_weighted", "True",
                               "--speaker_norm", "True")
    assert hp["wav_augment"] is not None and brain.wav_augment is None  # augment: False runs none; the copies keep it
    assert not {"copy_augment", "speakers"} & set(hp)
    hard = [e["hard"] for e in read_entries(lab / "train.json").values() if e.get("hard") is not None]
    counts = torch.tensor([hard.count(c) for c in hp["classes"]], dtype=torch.float)
    want = [len(hard) / (len(counts) * n) if n else 0.0 for n in counts.tolist()]  # N / (C n_c), by hand
    assert torch.allclose(brain.class_weights, torch.tensor(want), rtol=1e-5)
    assert brain.normalizer is not None and brain.normalizer.lone_train == 0.0 and brain.speakers is None
    placeholders = {"output_folder": str(tmp_path / "x"), "labels_folder": str(lab), "data_root": str(tmp_path)}
    loaded = load_hparams(str(RECIPE / "hparams" / "whisper_tiny.yaml"), placeholders)
    assert set(hp) == set(loaded)  # nothing added behind the file's back


def test_dev_is_normalised_by_speaker_or_scored_lone(labels, tmp_path):
    """speaker_norm_dev: speaker (default) gives each dev file its own speaker's statistics, the
    mean and std of all that speaker's dev frames; lone gives every dev file none (NaN: the
    training statistics, as ``ser-predict FILE``), while training files keep their speaker's."""
    import torch
    from speechbrain_ser import feature_cache
    from speechbrain_ser.stage import read_entries
    from speechbrain_ser.train import make_datasets

    norm = [*FROZEN, "--speaker_norm", "True"]
    got = {}
    for mode in ("speaker", "lone"):
        hp, brain, domains, lab = _brain(labels, tmp_path / "run", *norm, "--speaker_norm_dev", mode)
        sets = {"train": lab / "train.json", "dev": lab / "dev.json"}
        ds = make_datasets(hp, brain, sets, domains)
        got[mode] = {n: {it["id"]: it["speaker_stats"] for it in ds[n]} for n in sets}
    dev = read_entries(lab / "dev.json")
    load = feature_cache.feature_loader(feature_cache.ensure(hp, {"dev": lab / "dev.json"})["dev"], hp["encoder_dim"])
    speaker = next(e["speaker"] for e in dev.values())
    frames = torch.cat([load(u) for u, e in dev.items() if e["speaker"] == speaker]).double()  # (T, L, D)
    want = torch.stack([frames.mean(0), frames.std(0, unbiased=False)]).float()  # population std
    uid = next(u for u, e in dev.items() if e["speaker"] == speaker)
    assert torch.allclose(got["speaker"]["dev"][uid], want, atol=1e-4, rtol=1e-3)
    assert all(torch.isnan(s).all() for s in got["lone"]["dev"].values())
    for mode in got:
        assert all(torch.isfinite(s).all() for s in got[mode]["train"].values())
    with pytest.raises(SystemExit, match="speaker_norm_dev: 'grouped' is not one of speaker, lone"):
        _brain(labels, tmp_path / "bad", *norm, "--speaker_norm_dev", "grouped")


def test_feature_cache_gives_the_same_predictions(labels, tmp_path):
    """Cached layers (a subset, float32) = the upstream's output; the Brain's probabilities are
    the same whether it reads the cache or runs the upstream (one utterance per batch)."""
    import torch
    from speechbrain_ser import feature_cache
    from speechbrain_ser.audio import load_audio
    from speechbrain_ser.datasets import make_dataset
    from speechbrain_ser.stage import read_entries
    from speechbrain_ser.train import make_datasets

    hp, brain, domains, lab = _brain(labels, tmp_path / "run", *FROZEN, "--upstream_layers", "[1, 4]")
    sets = {"dev": lab / "dev.json"}
    cached = make_datasets(hp, brain, sets, domains)["dev"]
    entries = read_entries(lab / "dev.json")
    scp = feature_cache.ensure(hp, sets)["dev"]  # the set's scp, made by make_datasets: nothing extracted again
    load = feature_cache.feature_loader(scp, hp["encoder_dim"])
    uid, e = next(iter(entries.items()))
    wav = load_audio(e["wav"].replace("{data_root}", str(hp["data_root"])), 2.0)
    with torch.no_grad():
        direct = hp["upstream"].eval()(wav[None], torch.ones(1))[[1, 4], 0].permute(1, 0, 2)
    assert torch.allclose(load(uid), direct, atol=1e-6)
    # served from memory as float16: the same matrices to float16 precision, every utterance
    in_memory = feature_cache.feature_loader(scp, hp["encoder_dim"], memory_gb=1.0)
    for u in entries:
        a, b = load(u), in_memory(u)
        assert b.dtype == torch.float16
        b = b.float()
        assert a.shape == b.shape and torch.allclose(a, b, rtol=1e-3, atol=1e-3) and not torch.equal(a, b)
    with pytest.raises(KeyError, match="no features for utterance 'nope'"):
        in_memory("nope")
    ids1, p1 = _predict(brain, cached, batch_size=1)
    ids2, p2 = _predict(brain, make_dataset(lab / "dev.json", hp, domains), batch_size=1)
    assert ids1 == ids2 and len(ids1) > 5
    assert abs(p1 - p2).max() < 1e-4
    assert abs(p1 - p1.mean(0)).max() > 1e-3  # the predictions differ between utterances


def test_feature_cache_reuse_and_invalidation(labels, tmp_path, monkeypatch):
    import os
    import shutil
    from pathlib import Path

    import torch
    from speechbrain_ser import feature_cache
    from speechbrain_ser.stage import MARKER

    hp, _, _, lab = _brain(labels, tmp_path / "run", *FROZEN, "--feature_compression", "3")
    man = tmp_path / "dev.json"
    shutil.copy(lab / "dev.json", man)
    entries = json.loads(man.read_text())
    scp = feature_cache.ensure(hp, {"dev": man})["dev"]
    assert [line.split()[0] for line in scp.read_text().splitlines()] == list(entries)  # manifest order
    parts = sorted(scp.parent.parent.glob("*/part-*"))
    assert {p.parent.name for p in parts} == {e["corpus"] for e in entries.values()}  # one part per corpus
    arks = {p: (p / "feats.ark").stat().st_mtime_ns for p in parts}
    # another run asking for the same utterances (a fold, a seed): nothing extracted again
    assert feature_cache.ensure(hp, {"dev": man})["dev"] == scp and \
        {p: (p / "feats.ark").stat().st_mtime_ns for p in parts} == arks
    # a crash while extracting a part (no completion marker): that part is extracted again, cleanly
    (parts[0] / MARKER).unlink()
    feature_cache.ensure(hp, {"dev": man})
    assert (parts[0] / MARKER).exists() and (parts[0] / "feats.ark").stat().st_mtime_ns != arks[parts[0]]
    assert (parts[-1] / "feats.ark").stat().st_mtime_ns == arks[parts[-1]] or len(parts) == 1
    # a subset of the utterances: served from the parts made, its scp lists exactly them
    keep = dict(list(entries.items())[:3])
    man.write_text(json.dumps(keep))
    sub = feature_cache.ensure(hp, {"dev": man})["dev"]
    assert [line.split()[0] for line in sub.read_text().splitlines()] == list(keep)
    assert sorted(scp.parent.parent.glob("*/part-*")) == parts
    # an utterance whose audio path changed is extracted anew (a new part); the others are not
    uid = next(iter(keep))
    keep[uid] = {**keep[uid], "wav": entries[list(entries)[3]]["wav"]}
    man.write_text(json.dumps(keep))
    moved = feature_cache.ensure(hp, {"dev": man})["dev"]
    new = sorted(set(scp.parent.parent.glob("*/part-*")) - set(parts))
    assert len(new) == 1 and (new[0] / "feats.scp").read_text().split()[0] == uid
    # the corpora copied elsewhere without their files' times (a new data root, new mtimes):
    # the files are known by their content, nothing is extracted again
    before = set(scp.parent.parent.glob("*/part-*"))
    root = Path(hp["data_root"])
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)  # copytree keeps times: move them
    for f in copy.rglob("*.wav"):
        os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    hp["data_root"] = str(copy)
    assert feature_cache.ensure(hp, {"dev": man})["dev"] == moved  # the same matrices
    assert set(scp.parent.parent.glob("*/part-*")) == before
    # the same path, the file re-encoded or re-trimmed (its content changed): extracted anew
    wav = Path(keep[uid]["wav"].replace("{data_root}", str(copy)))
    data = bytearray(wav.read_bytes())
    data[-2:] = bytes([data[-2] ^ 1, data[-1]])  # the last sample, one bit
    wav.write_bytes(bytes(data))
    feature_cache.ensure(hp, {"dev": man})
    new = sorted(set(scp.parent.parent.glob("*/part-*")) - before)
    assert len(new) == 1 and (new[0] / "feats.scp").read_text().split()[0] == uid
    hp["data_root"] = str(root)
    # the upstream's constructor options (30 s padding: 1,500 frames instead of ~100) and the code
    # that computes the states are in the key
    key = feature_cache.upstream_fingerprint(hp)
    hp["upstream"].pad_to_30s = True
    assert feature_cache.upstream_fingerprint(hp) != key
    hp["upstream"].pad_to_30s = False
    assert feature_cache.upstream_fingerprint(hp) == key
    import inspect
    code = feature_cache.code_version(hp["upstream"])
    src = Path(inspect.getsourcefile(type(hp["upstream"])))
    monkeypatch.setattr(Path, "read_bytes", lambda self: (b"# edited\n" if self == src else b"") + open(self, "rb").read())
    assert feature_cache.code_version(hp["upstream"]) != code
    monkeypatch.undo()
    # another upstream (changed weights): another cache folder, extracted from scratch
    with torch.no_grad():
        next(hp["upstream"].parameters()).add_(0.01)
    other = feature_cache.ensure(hp, {"dev": man})["dev"]
    assert other.parent.parent != scp.parent.parent and other.exists()


def test_feature_cache_refuses_a_changing_upstream(labels, tmp_path):
    """Augmentation changes the cached states every epoch: refused. Whisper's fine-tuned top layer
    runs on the cached input to it (an upstream that cannot is refused: tests/test_whisper.py)."""
    from speechbrain_ser.feature_cache import trainable_top

    with pytest.raises(ValueError, match="augment: False"):
        _brain(labels, tmp_path / "b", "--cache_features", "True", "--trainable_layers", "0")
    hp, brain, _, _ = _brain(labels, tmp_path / "a", "--cache_features", "True", "--augment", "False")
    assert trainable_top(hp["upstream"]) == 1 and brain.top_layers == 1
    # a layer subset caches too few layers for the top layers to run on: refused, naming both keys
    with pytest.raises(ValueError, match=r"upstream_layers: \[1, 4\] caches a subset"):
        _brain(labels, tmp_path / "c", "--cache_features", "True", "--augment", "False", "--upstream_layers", "[1, 4]")


def test_training_with_the_feature_cache(labels, tmp_path):
    out = tmp_path / "run"
    r = _train(RECIPE / "hparams" / "whisper_tiny.yaml", labels, out, *FROZEN)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "epoch: 2" in (out / "train_log.txt").read_text()
    # one cache part per corpus (train and dev together), one scp per set
    corpora = {e["corpus"] for n in ("train", "dev") for e in json.loads((labels / "data" / "labels" / f"{n}.json").read_text()).values()}
    assert {p.parent.parent.name for p in (out / "features").glob("*/*/part-*/feats.scp")} == corpora
    assert len(list((out / "features").glob("*/sets/*.scp"))) == 2
    # the frozen upstream is written once; each checkpoint links to it, with its weights
    import torch

    ckpt = sorted((out / "save").glob("CKPT+*"))[-1]
    assert (ckpt / "upstream.ckpt").samefile(out / "save" / "frozen_upstream.ckpt")
    hp, _, _, _ = _brain(labels, tmp_path / "fresh", *FROZEN)
    saved, fresh = torch.load(ckpt / "upstream.ckpt"), hp["upstream"].state_dict()
    assert saved.keys() == fresh.keys() and all(torch.equal(saved[k], fresh[k]) for k in fresh)


def test_training_stops_after_patience_epochs_without_a_better_dev(labels, tmp_path):
    """``patience`` (SpeechBrain's EpochCounterWithStopper, told the select_key each epoch in its
    select_mode): a key that never improves (the dev set's size, to be minimised) stops patience 1 of
    4 epochs after epoch 2, the first without improvement; a rerun of the finished run trains none."""
    import re

    out = tmp_path / "run"
    args = [*FROZEN, "--number_of_epochs", "4", "--patience", "1", "--select_key", "n", "--select_mode", "min"]
    for _ in range(2):
        r = _train(RECIPE / "hparams" / "whisper_tiny.yaml", labels, out, *args)
        assert r.returncode == 0, r.stderr[-3000:]
        assert re.findall(r"^epoch: (\d+)", (out / "train_log.txt").read_text(), re.M) == ["1", "2"]
    # the same run without patience trains every epoch
    r = _train(RECIPE / "hparams" / "whisper_tiny.yaml", labels, tmp_path / "all", *FROZEN,
               "--number_of_epochs", "3", "--select_key", "n", "--select_mode", "min")
    assert r.returncode == 0, r.stderr[-3000:]
    assert re.findall(r"^epoch: (\d+)", (tmp_path / "all" / "train_log.txt").read_text(), re.M) == ["1", "2", "3"]


def test_same_seed_same_machine_gives_identical_weights(labels, tmp_path):
    """What the README claims, and no more: same machine, same thread count, same seed ->
    bit-identical checkpoints. (Across machines the CPU kernels may sum in another order.)"""
    import torch

    hp = RECIPE / "hparams" / "whisper_tiny.yaml"
    weights = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = _train(hp, labels, out, "--number_of_epochs", "1", "--seed", "3")
        assert r.returncode == 0, r.stderr[-2000:]
        # a fine-tuned upstream: its pretrained weights once, each checkpoint the layers that train
        ckpt = sorted((out / "save").glob("CKPT+*"))[-1]
        part, full = torch.load(ckpt / "upstream.ckpt"), torch.load(out / "save" / "frozen_upstream.ckpt")
        assert part and set(part) < set(full)
        trained_bytes = sum(t.numel() * t.element_size() for t in part.values())
        assert (ckpt / "upstream.ckpt").stat().st_size <= 1.2 * trained_bytes < 0.5 * (
            out / "save" / "frozen_upstream.ckpt").stat().st_size
        if name == "a":  # the exported model holds the whole upstream: the trained layers over the frozen rest
            from speechbrain_ser.export import export

            model = export(out, tmp_path / "model")
            whole = torch.load(model / "upstream.ckpt")
            assert whole.keys() == full.keys()
            assert all(torch.equal(whole[k], part[k] if k in part else full[k]) for k in full)
        weights.append(_latest_weights(out))
    _assert_same_weights(*weights)


def _latest_weights(out):
    """{file: state} of the newest checkpoint; torch-saved files (modules, optimizer, random state) are zip
    archives, brain.ckpt is yaml text."""
    import torch

    ckpt = sorted((out / "save").glob("CKPT+*"))[-1]
    return {f.name: torch.load(f, map_location="cpu", weights_only=False) if zipfile.is_zipfile(f)
            else f.read_text() for f in sorted(ckpt.glob("*.ckpt"))
            if f.name not in ("counter.ckpt", "dataloader-TRAIN.ckpt")}


def _assert_same_weights(a, b):
    import torch

    assert a.keys() == b.keys()
    n_tensors = 0
    for name, sd in a.items():
        if isinstance(sd, str):
            assert sd == b[name], name
        elif isinstance(sd, dict):
            for k, v in sd.items():
                if torch.is_tensor(v):
                    assert torch.equal(v, b[name][k]), (name, k)
                    n_tensors += 1
    assert n_tensors > 0


@pytest.mark.parametrize("hp_name", ["whisper_tiny.yaml", "wavlm_large.yaml"])
def test_predictions_do_not_depend_on_the_batch(labels, tmp_path, hp_name):
    """8 utterances of mixed lengths: batched probabilities equal one-at-a-time ones."""
    import numpy as np

    from speechbrain_ser.datasets import make_dataset
    from speechbrain_ser.train import build

    extra = []
    if hp_name in TINY_KIND:
        from speechbrain_ser.models.tiny import make_tiny
        src = make_tiny(TINY_KIND[hp_name], tmp_path / "tiny_model")
        extra = ["--upstream_source", str(src), "--encoder_dim", "32", "--encoder_layers", "3",
                 "--trainable_layers", "0"]
    argv = [str(RECIPE / "hparams" / hp_name), "--device", "cpu", "--labels_folder", str(labels / "data" / "labels"),
            "--data_root", str(ROOT / "data" / "synth_tiny"), "--output_folder", str(tmp_path / "o"), *extra]
    hp, brain, domains, lab = build(argv, for_training=False)
    entries = json.loads((lab / "test.json").read_text())
    by_len = sorted((e["duration"], k) for k, e in entries.items() if e.get("hard"))
    pick = {k: entries[k] for _, k in by_len[:: max(1, len(by_len) // 8)][:8]}
    assert len(pick) == 8 and max(e["duration"] for e in pick.values()) > 1.5 * min(e["duration"] for e in pick.values())
    (tmp_path / "eight.json").write_text(json.dumps(pick))
    ds = make_dataset(tmp_path / "eight.json", hp, domains)
    ids8, p8 = _predict(brain, ds, batch_size=8)
    ids1, p1 = _predict(brain, ds, batch_size=1)
    assert ids8 == ids1
    assert np.abs(p8 - p1).max() < 1e-4, np.abs(p8 - p1).max()


def test_checkpoint_choice_on_the_mean_of_each_corpus_uar_within_its_classes(labels, tmp_path):
    """select_key corpus_uar: each dev utterance is scored within its corpus's classes (stage 2's
    inventory, as stage 4 scores it) and each corpus counts once. Hand example over 7 classes:
    corpus A (classes 0, 1): ref 0 with its top logit on class 5 (not A's: restricted to class 0,
    right), ref 1 right -> UAR 1; corpus B (classes 0, 2): ref 0 predicted 2, two refs 2 right (one
    only once class 6 is masked) -> UAR (0 + 1) / 2 = 0.5. Mean 0.75; pooling utterances would give
    (1/2 + 1 + 1) / 3 = 0.833, and unrestricted argmax would get two of the five wrong more."""
    from types import SimpleNamespace

    import numpy as np
    import torch
    from speechbrain_ser import metrics
    from speechbrain_ser.stage import read_entries
    from speechbrain_ser.train import make_datasets

    assert metrics.mean_corpus_uar([0, 1, 0, 2, 2], [0, 1, 2, 2, 2], ["A", "A", "B", "B", "B"]) == 0.75
    hp, brain, domains, lab = _brain(labels, tmp_path / "run", *FROZEN)
    logits = torch.full((5, 7), -5.0)
    for i, order in enumerate([(5, 0), (1,), (2, 0), (2,), (6, 2)]):  # top class first
        for rank, c in enumerate(order):
            logits[i, c] = 5.0 - rank
    allowed = torch.zeros(5, 7)
    allowed[:2, [0, 1]] = 1
    allowed[2:, [0, 2]] = 1
    batch = SimpleNamespace(y_hard=SimpleNamespace(data=torch.tensor([[0], [1], [0], [2], [2]])),
                            y_soft=SimpleNamespace(data=torch.zeros(5, 7)),
                            y_allowed=SimpleNamespace(data=allowed),
                            y_corpus=SimpleNamespace(data=torch.tensor([[0], [0], [1], [1], [1]])))
    brain.on_stage_start(None)
    brain._collect({"logits": logits}, batch)
    s = brain.summary()
    assert s["corpus_uar"] == pytest.approx(0.75) and s["uar"] == pytest.approx((0 + 1 + 1 / 2) / 3)
    # the dev set carries each utterance's corpus and its classes from stage 2's summary
    summary = read_entries(lab / "summary.json")["corpora"]
    dev = make_datasets(hp, brain, {"dev": lab / "dev.json"}, domains)["dev"]
    entries = read_entries(lab / "dev.json")
    for item in list(dev)[:20]:
        corpus = entries[item["id"]]["corpus"]
        want = [float(c in summary[corpus]["inventory"]) for c in hp["classes"]]
        assert item["y_allowed"].tolist() == want and item["y_corpus"].item() == sorted(summary).index(corpus)
    assert np.isnan(metrics.mean_corpus_uar([], [], []))


def test_every_shipped_system_reads_in_base_plus_its_own_file():
    """A system file extends only its recipe's base.yaml (and the package's GPU settings), so every
    key it runs with is in base.yaml or in the file itself."""
    import ruamel.yaml

    for f in sorted(ROOT.glob("recipes/*/hparams/*.yaml")):
        if f.name == "base.yaml":
            continue
        ext = ruamel.yaml.YAML().load(f.read_text()).get("extends")
        ext = [ext] if isinstance(ext, str) else list(ext or [])
        assert ext and ext[0] == "base.yaml" and set(ext[1:]) <= {"@speechbrain_ser/conf/gpu.yaml"}, f
