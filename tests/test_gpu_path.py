"""A lab's GPU run, checked on the CPU: options reaching the recipe, a node without apt, length-bucketed
batches, the GPU systems' run settings, DDP's wrapped upstream. (DDP with heads that get no loss:
test_multilingual16.py; stage 4 on the chosen device and its extras after the scores:
test_inference.py; checkpoints of what trains: test_multilingual16.py.)"""
import os
import re
import shutil

import pytest
import torch

from conftest import ROOT, run


def _options():
    text = (ROOT / "tools" / "recipe_options.sh").read_text()
    block = text.split("# <options>")[1].split("# </options>")[0]
    return re.findall(r"^([a-z_]+)=", block, re.M)


def test_every_option_of_the_options_file_reaches_the_recipe(tmp_path):
    """./run.sh forwards each option of tools/recipe_options.sh, by name, with its value."""
    for rel in ("run.sh", "tools"):
        (shutil.copytree if (ROOT / rel).is_dir() else shutil.copy)(ROOT / rel, tmp_path / rel)
    stub = tmp_path / "recipes" / "Stub" / "run.sh"
    stub.parent.mkdir(parents=True)
    stub.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    stub.chmod(0o755)
    options = _options()
    assert {"label_config", "device", "precision", "data_root", "exp_dir"} <= set(options)
    values = {o: {"stage": "3", "stop_stage": "4", "seed": "7", "nproc": "2", "strict": "true",
                  "wait_lock": "true", "max_reject": "0.1"}.get(o, f"value-of-{o}") for o in options}
    args = [x for o in options for x in (f"--{o.replace('_', '-')}", values[o])]
    r = run([str(tmp_path / "run.sh"), "--recipe", "Stub", *args, "--", "--lr", "0.1"])
    assert r.returncode == 0, r.stderr
    got = r.stdout.splitlines()
    for o in options:
        i = got.index(f"--{o.replace('_', '-')}")
        assert got[i + 1] == values[o], o
    assert got[-3:] == ["--", "--lr", "0.1"]


def test_a_run_on_corpora_needs_neither_apt_nor_sudo(tmp_path, embedded_tiny):
    """A cluster node: no apt-get, no sudo on PATH, none of the embedded data's Debian packages (dpkg
    knows none). With --data-root no Debian package is needed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")
    (bin_dir / "dpkg-query").chmod(0o755)
    for d in os.environ["PATH"].split(":"):
        if os.path.isdir(d):
            for name in os.listdir(d):
                if name not in ("apt-get", "apt", "sudo") and not (bin_dir / name).exists():
                    (bin_dir / name).symlink_to(os.path.join(d, name))
    env = {"PATH": str(bin_dir)}
    assert run(["bash", "-c", "command -v apt-get || command -v sudo || echo none"], env=env).stdout.strip() == "none"
    exp = tmp_path / "exp"
    r = run(["./run.sh", "--data-root", str(embedded_tiny), "--stop-stage", "2", "--exp-dir", str(exp),
             "--label-overrides", "corpora=[ravdess,emodb] held_out=[emodb]"], env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (exp / "data" / "labels" / "train.json").exists()
    # making the embedded data does need the packages: where they are missing, a clear stop
    r = run([str(ROOT / "tools" / "setup.sh"), "--embedded-data"], env=env)
    assert r.returncode != 0 and "apt-get to install them" in r.stderr, r.stderr


def _dataset(durations):
    from speechbrain.dataio.dataset import DynamicItemDataset

    return DynamicItemDataset({f"u{i}": {"duration": d} for i, d in enumerate(durations)})


def test_length_buckets_bound_padding_and_batches():
    from speechbrain_ser.samplers import length_buckets, lengths_of, padding_share

    # padding share by hand: [1, 3] padded to 3 (2 of 6 frames), [2, 2] none -> 2 / 10
    assert padding_share([[0, 1], [2, 3]], [1.0, 3.0, 2.0, 2.0]) == pytest.approx(0.2)
    rng = torch.Generator().manual_seed(0)
    durations = (torch.rand(800, generator=rng) ** 2 * 12 + 0.5).tolist()  # 0.5-12.5 s, many short
    ds = _dataset(durations)
    lengths = lengths_of(ds, 8.0)
    assert max(lengths) == 8.0 and lengths[0] == min(durations[0], 8.0)
    sampler = length_buckets(ds, batch_size=16, max_seconds=8.0, num_buckets=20, seed=1)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(800))  # every utterance once
    assert all(len(b) <= 16 and sum(lengths[i] for i in b) <= 16 * 8.0 for b in batches)
    bucketed = padding_share(batches, lengths)
    perm = torch.randperm(800, generator=rng).tolist()
    random = padding_share([perm[i:i + 16] for i in range(0, 800, 16)], lengths)
    assert bucketed < 0.05 < 0.2 < random
    assert len(batches) <= 800 / 16 + 20  # at most one partial batch per bucket
    assert list(sampler) == batches  # a second pass of one epoch: the same batches
    sampler.set_epoch(1)  # SpeechBrain calls it each epoch: a new draw
    epoch1 = list(sampler)
    assert epoch1 != batches
    resumed = length_buckets(ds, batch_size=16, max_seconds=8.0, num_buckets=20, seed=1)
    resumed.set_epoch(1)  # a run resumed at epoch 1 draws what the uninterrupted run drew
    assert list(resumed) == epoch1
    # a budget in seconds: fewer long utterances per batch
    tight = list(length_buckets(ds, batch_size=16, max_seconds=8.0, batch_seconds=32, seed=1))
    assert all(sum(lengths[i] for i in b) <= 32 for b in tight)
    with pytest.raises(ValueError, match="less than the longest cropped utterance"):
        length_buckets(ds, batch_size=16, max_seconds=8.0, batch_seconds=4)
    dev = list(length_buckets(ds, batch_size=16, max_seconds=8.0, shuffle=False))
    assert [max(lengths[i] for i in b) for b in dev] == sorted(max(lengths[i] for i in b) for b in dev)


def test_training_loaders_follow_sorting():
    from speechbrain.dataio.sampler import DynamicBatchSampler

    from speechbrain_ser.train import loader_options

    ds = _dataset([1.0, 2.0, 3.0, 9.0])
    hp = {"dataloader_options": {"batch_size": 2, "num_workers": 0}, "batch_size": 2, "max_seconds": 8.0,
          "seed": 0, "sorting": "buckets", "num_buckets": 2}
    train, dev = loader_options(hp, ds, ds)
    assert isinstance(train["batch_sampler"], DynamicBatchSampler) and "batch_size" not in train
    assert isinstance(dev["batch_sampler"], DynamicBatchSampler)
    train, dev = loader_options({**hp, "sorting": "random"}, ds, ds)
    assert train["shuffle"] is True and train["batch_size"] == 2 and "batch_sampler" not in dev
    with pytest.raises(SystemExit, match="sorting: 'ascending' is not one of"):
        loader_options({**hp, "sorting": "ascending"}, ds, ds)


GPU_SYSTEMS = ["Multilingual16/hparams/whisper_large_v3.yaml", "Multilingual16/hparams/whisper_medium.yaml",
               "Multilingual16/hparams/wavlm_large.yaml", "MSP-Podcast/hparams/mm_whisper_ccc.yaml",
               "MSP-Podcast/hparams/wavlm_ccc_gender.yaml", "MSP-Podcast/hparams/wavlm_ccc_speaker.yaml",
               "MSP-Podcast/hparams/wavlm_kld_secondary_sampler.yaml", "MSP-Podcast/hparams/wavlm_wce.yaml",
               "MSP-Podcast/hparams/wavlm_wbce_secondary.yaml", "MSP-Podcast/hparams/wav2vec2_xlsr_softmse.yaml",
               "MSP-Podcast/hparams/wav2vec2_xlsr_softmax_mse.yaml",
               "MSP-Podcast/hparams/wav2vec2_xlsr_soft_macrof1.yaml"]


@pytest.mark.parametrize("system", GPU_SYSTEMS)
def test_gpu_systems_run_in_bf16_with_workers_and_length_buckets(system):
    import ruamel.yaml

    from speechbrain_ser.hparams import merged_text

    hp = ruamel.yaml.YAML().load(merged_text(ROOT / "recipes" / system))
    assert (hp["precision"], hp["eval_precision"], hp["sorting"], hp["pin_memory"]) == ("bf16", "bf16", "buckets", True)
    assert 4 <= hp["num_workers"] <= 8 and hp["batch_seconds"] >= hp["max_seconds"]
    if not hp["trainable_layers"]:  # a frozen upstream without augmentation runs once per utterance
        assert hp["cache_features"] or hp["augment"], system


def test_speechbrain_turns_tf32_on():
    """TF32 matmuls on Ampere and newer: SpeechBrain's ``allow_tf32`` quirk, applied when its core loads."""
    import speechbrain_ser.train  # noqa: F401

    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32


class _Upstream(torch.nn.Module):
    """A stand-in upstream: 2 hidden states, frames = samples // 2 (its own lengths)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(3))

    def forward(self, wavs, lens):
        frames = wavs[:, : wavs.shape[1] // 2 * 2].reshape(wavs.shape[0], -1, 2)  # (B, T, 2)
        h = torch.cat([frames, frames ** 2 * self.w[:1]], -1) * self.w[1:].sum()
        return torch.stack([h, 2 * h])  # (L, B, T, D)

    def output_lengths(self, wavs, lens):
        # deliberately not the waveform's: an utterance's frames end one frame early
        t = wavs.shape[1] // 2
        return ((torch.round(lens * wavs.shape[1]) // 2 - 1) / t).clamp(min=1 / t)


def test_a_wrapped_upstream_pools_with_its_own_lengths():
    """Under DDP the upstream is a wrapper whose module has ``output_lengths``: the embedding is the
    unwrapped one's, not one pooled with waveform-relative lengths."""
    from speechbrain_ser.brains.emotion import utterance_embedding
    from speechbrain_ser.models.heads import Pooler, WeightedLayerSum

    class Wrapper(torch.nn.Module):  # what DistributedDataParallel looks like from outside
        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, *a):
            return self.module(*a)

    torch.manual_seed(0)
    up = _Upstream()
    mods = torch.nn.ModuleDict({"upstream": up, "layer_sum": WeightedLayerSum(2), "pooler": Pooler(4)}).eval()
    wavs, lens = torch.randn(2, 40), torch.tensor([1.0, 0.6])
    want = utterance_embedding(mods, wavs, lens)
    mods["upstream"] = Wrapper(up)
    got = utterance_embedding(mods, wavs, lens)
    assert torch.allclose(want, got)
    mods["upstream"] = up
    plain = utterance_embedding({"upstream": lambda w, l: up(w, l), "layer_sum": mods["layer_sum"],
                                 "pooler": mods["pooler"]}, wavs, lens)
    assert not torch.allclose(plain, want)  # the lengths matter here


def test_each_torchrun_process_gets_its_own_gpu(monkeypatch):
    from speechbrain_ser.train import process_device

    assert process_device("cuda") == "cuda"
    monkeypatch.setenv("RANK", "5")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert process_device("cuda") == "cuda:1"  # not GPU 0 for all processes of a node
    assert process_device("cuda:3") == "cuda:3" and process_device("cpu") == "cpu" and process_device(None) is None
