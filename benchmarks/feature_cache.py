"""One training epoch (train + dev) of a frozen Whisper tiny.en with and without
the Kaldi ark/scp feature cache (speechbrain_ser/feature_cache.py).

    .venv/bin/python benchmarks/feature_cache.py [--size mini] [--epochs 1] [--cached-epochs 3]

Needs stages 0-2 of Multilingual16 for --size (``./run.sh --size mini --stop-stage 2``).
Prints the wall time of an uncached epoch, of the one-off extraction, of a cached
epoch read from the ark and of one served from memory (float16, ``feature_memory_gb``),
their ratios (measured in one run: this machine is noisy; a cached epoch is the mean of
``--cached-epochs``, as one takes only ~2 s), the cache size, and where
a cached epoch goes: the data path (reading, collation and padding: one pass over
the train and dev loaders without the model) and the rest (layer weights, pooling,
heads, backward, optimiser, the Brain's bookkeeping).
"""
import argparse
import tempfile
import time
from pathlib import Path

import speechbrain as sb
import torch

from speechbrain_ser.train import build, make_datasets

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser()
ap.add_argument("--size", default="mini")
ap.add_argument("--epochs", type=int, default=1, help="epochs of the uncached run")
ap.add_argument("--cached-epochs", type=int, default=3, help="epochs of each cached run (mean per epoch)")
a = ap.parse_args()
torch.set_num_threads(2)
labels = ROOT / "exp" / "Multilingual16" / a.size / "data" / "labels"
if not (labels / "train.json").exists():
    raise SystemExit(f"{labels}: run ./run.sh --size {a.size} --stop-stage 2 first")


def epoch_time(tmp: Path, cache: bool, memory_gb: float = 0.0) -> tuple:
    epochs = a.cached_epochs if cache else a.epochs
    name = "plain" if not cache else f"cached_mem{memory_gb:g}"
    argv = [str(ROOT / "recipes" / "Multilingual16" / "hparams" / "whisper_tiny.yaml"), "--device", "cpu",
            "--labels_folder", str(labels), "--data_root", str(ROOT / "data" / f"synth_{a.size}"),
            "--output_folder", str(tmp / name), "--number_of_epochs", str(epochs),
            "--augment", "False", "--trainable_layers", "0", "--cache_features", str(cache),
            "--feature_folder", str(tmp / "features"), "--feature_memory_gb", str(memory_gb)]
    hp, brain, domains, lab = build(argv)
    t0 = time.perf_counter()
    ds = make_datasets(hp, brain, {"train": lab / "train.json", "dev": lab / "dev.json"}, domains)
    extract = time.perf_counter() - t0
    loader = dict(hp["dataloader_options"], shuffle=True)
    t0 = time.perf_counter()
    brain.fit(hp["epoch_counter"], ds["train"], ds["dev"], train_loader_kwargs=loader,
              valid_loader_kwargs=hp["dataloader_options"])
    epoch = (time.perf_counter() - t0) / epochs
    data = 0.0
    if cache:  # the data path alone: one pass over both loaders, no model
        t0 = time.perf_counter()
        for name_, opts in (("train", loader), ("dev", hp["dataloader_options"])):
            for _ in sb.dataio.dataloader.make_dataloader(ds[name_], **opts):
                pass
        data = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in Path(hp["feature_folder"]).glob("*/feats.ark")) if cache else 0
    return extract, epoch, data, size, len(ds["train"]) + len(ds["dev"])


with tempfile.TemporaryDirectory() as d:
    _, plain, _, _, n = epoch_time(Path(d), cache=False)
    extract, cached, data, size, _ = epoch_time(Path(d), cache=True)
    _, cached_mem, data_mem, _, _ = epoch_time(Path(d), cache=True, memory_gb=8.0)
print(f"frozen whisper tiny.en, {a.size}: {n} utterances (train + dev), 2 threads; mean of {a.epochs} uncached "
      f"and {a.cached_epochs} cached epochs")
print(f"epoch without cache          {plain:7.1f} s")
print(f"feature extraction           {extract:7.1f} s  (once; {size / 2**20:.0f} MiB of float32 ark)")
print(f"epoch with cache (ark)       {cached:7.1f} s  = data path {data:.1f} s + model and training {cached - data:.1f} s")
print(f"epoch with cache (memory)    {cached_mem:7.1f} s  = data path {data_mem:.1f} s + model and training "
      f"{cached_mem - data_mem:.1f} s")
print(f"speed-up per epoch           {plain / cached:7.1f}x (ark), {plain / cached_mem:.1f}x (memory); break-even after "
      f"{extract / max(plain - cached, 1e-9):.1f} epochs")
print(f"ceiling with a free data path: {plain / max(cached_mem - data_mem, 1e-9):.1f}x")
