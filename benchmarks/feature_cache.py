"""One training epoch (train + dev) of a frozen Whisper tiny.en with and without
the Kaldi ark/scp feature cache (speechbrain_ser/features.py).

    .venv/bin/python benchmarks/feature_cache.py [--size mini] [--epochs 1]

Needs stages 0-2 of Multilingual16 for --size (``./run.sh --size mini --stop-stage 2``).
Prints the wall time of an uncached epoch, of the one-off extraction, of a cached
epoch, their ratios (measured in one run: this machine is noisy) and the cache size.
"""
import argparse
import tempfile
import time
from pathlib import Path

import torch

from speechbrain_ser.train import build, make_datasets

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser()
ap.add_argument("--size", default="mini")
ap.add_argument("--epochs", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(2)
labels = ROOT / "exp" / "Multilingual16" / a.size / "data" / "labels"
if not (labels / "train.json").exists():
    raise SystemExit(f"{labels}: run ./run.sh --size {a.size} --stop-stage 2 first")


def epoch_time(tmp: Path, cache: bool) -> tuple:
    argv = [str(ROOT / "recipes" / "Multilingual16" / "hparams" / "whisper_tiny.yaml"), "--device", "cpu",
            "--labels_folder", str(labels), "--data_root", str(ROOT / "data" / f"synth_{a.size}"),
            "--output_folder", str(tmp / ("cached" if cache else "plain")), "--number_of_epochs", str(a.epochs),
            "--augment", "False", "--trainable_layers", "0", "--cache_features", str(cache)]
    hp, brain, domains, lab = build(argv)
    t0 = time.perf_counter()
    ds = make_datasets(hp, brain, {"train": lab / "train.json", "dev": lab / "dev.json"}, domains)
    extract = time.perf_counter() - t0
    loader = dict(hp["dataloader_options"], shuffle=True)
    t0 = time.perf_counter()
    brain.fit(hp["epoch_counter"], ds["train"], ds["dev"], train_loader_kwargs=loader,
              valid_loader_kwargs=hp["dataloader_options"])
    size = sum(p.stat().st_size for p in Path(hp["feature_folder"]).glob("*/feats.ark")) if cache else 0
    return extract, (time.perf_counter() - t0) / a.epochs, size, len(ds["train"]) + len(ds["dev"])


with tempfile.TemporaryDirectory() as d:
    _, plain, _, n = epoch_time(Path(d), cache=False)
    extract, cached, size, _ = epoch_time(Path(d), cache=True)
print(f"frozen whisper tiny.en, {a.size}: {n} utterances (train + dev), 2 threads")
print(f"epoch without cache   {plain:7.1f} s")
print(f"feature extraction    {extract:7.1f} s  (once; {size / 2**20:.0f} MiB of float32 ark)")
print(f"epoch with cache      {cached:7.1f} s")
print(f"speed-up per epoch    {plain / cached:7.1f}x; break-even after "
      f"{extract / max(plain - cached, 1e-9):.1f} epochs")
