"""The GPU systems' run path, measured on whatever machine this is (a GPU when there is one).

    .venv/bin/python benchmarks/gpu_path.py --data-root ../shared/real [--device cuda]
        [--systems whisper_tiny_frozen_real whisper_large_v3 whisper_medium wavlm_large]
        [--corpora ravdess urdu] [--epochs 1] [--out exp/gpu_path]

Stages 1-2 once on ``--data-root`` with ``conf/labels_real.yaml`` (``--corpora``: the corpora read,
the last one held out; default the real development corpora RAVDESS, TESS, EMOVO, CASIA, URDU with
URDU zero-shot), then per Multilingual16 system:

* **padding**: the share of a batch's frames that are padding over one epoch of the training set
  (each utterance cut at the system's crop ``max_seconds``): with ``batch_size`` utterances drawn at
  random, and with the system's own ``sorting`` (length buckets, ``samplers.length_buckets``).
* **training**: stage 3 for ``--epochs`` on that training set (utterances per second of the
  training epochs, data loading included, from the training log; the GPU's peak memory on CUDA),
  the process's wall time and peak RSS.
* **stage 4**: export and predictions through the exported model (files per second of the
  predictions, from stage 4's log), wall time of the whole stage 4, extras included.
* **checkpoint**: the selected checkpoint's module weights (every ``.ckpt`` but the optimizer's)
  against the size of the trainable parameters (the optimizer's first moments: one per trained
  value), and the optimizer's state beside.

A system whose upstream comes from the hub (``upstream_source``: whisper-large-v3, whisper-medium,
WavLM-large) runs with a tiny random model of the same architecture (``models/tiny.py``) unless
``--hub`` says the hub (or its cache) is reachable: the figures then measure the run path
(loading, batching, checkpoints), not the large model's speed.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "Multilingual16"
sys.path.insert(0, str(ROOT))
STAND_IN = {"whisper_large_v3": "whisper-large-v3", "whisper_medium": "whisper", "wavlm_large": "wavlm"}
SYSTEMS = ["whisper_tiny_frozen_real", "whisper_large_v3", "whisper_medium", "wavlm_large"]
FOLDERS = {"ravdess": "RAVDESS", "tess": "TESS", "emovo": "EMOVO", "casia": "CASIA", "urdu": "URDU", "ased": "ASED"}


def _run(cmd, log: Path) -> float:
    t = time.perf_counter()
    with open(log, "w") as f:
        r = subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(map(str, cmd))} failed; its log: {log}\n" + log.read_text()[-3000:])
    return time.perf_counter() - t


def padding(hp: dict, train_json: Path) -> tuple:
    """(share with random batches, share with the system's sorting, utterances)."""
    from speechbrain.dataio.dataset import DynamicItemDataset

    from speechbrain_ser.samplers import length_buckets, lengths_of, padding_share

    entries = json.loads(train_json.read_text())
    ds = DynamicItemDataset({u: {"duration": e["duration"]} for u, e in entries.items()})
    lengths = lengths_of(ds, hp["max_seconds"])
    bs = int(hp["batch_size"])
    perm = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(0)).tolist()
    random = padding_share([perm[i:i + bs] for i in range(0, len(perm), bs)], lengths)
    if hp["sorting"] != "buckets":
        return random, random, len(lengths)
    sampler = length_buckets(ds, bs, hp["max_seconds"], hp.get("batch_seconds"), int(hp.get("num_buckets") or 40))
    return random, padding_share(list(sampler), lengths), len(lengths)


def checkpoint_sizes(train_dir: Path) -> dict:
    """MB of the newest checkpoint's module weights and optimizer state, and of the trainable values."""
    ckpt = sorted((train_dir / "save").glob("CKPT+*"))[-1]
    once = train_dir / "save" / "frozen_upstream.ckpt"
    weights = sum(f.stat().st_size for f in ckpt.glob("*.ckpt")  # a link to the upstream written once is no copy
                  if f.name not in ("optimizer.ckpt", "random_state.ckpt", "counter.ckpt", "lr_annealing.ckpt")
                  and not (once.exists() and f.samefile(once)))
    opt = torch.load(ckpt / "optimizer.ckpt", map_location="cpu", weights_only=False)
    trainable = sum(s["exp_avg"].numel() * 4 for s in opt["state"].values() if "exp_avg" in s)
    return {"weights_mb": weights / 2**20, "optimizer_mb": (ckpt / "optimizer.ckpt").stat().st_size / 2**20,
            "trainable_mb": trainable / 2**20,
            "frozen_once_mb": ((train_dir / "save" / "frozen_upstream.ckpt").stat().st_size / 2**20
                               if (train_dir / "save" / "frozen_upstream.ckpt").exists() else 0.0)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", required=True, help="the corpora's root folder")
    ap.add_argument("--corpora", nargs="+", default=["ravdess", "tess", "emovo", "casia", "urdu"],
                    help="corpora read; the last is held out (zero-shot)")
    ap.add_argument("--systems", nargs="+", default=SYSTEMS)
    ap.add_argument("--device", default=None, help="default: cuda when present, else cpu")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--hub", action="store_true", help="load the hub upstreams themselves (no stand-ins)")
    ap.add_argument("--out", type=Path, default=ROOT / "exp" / "gpu_path")
    a = ap.parse_args(argv)
    from speechbrain_ser.hparams import merged_text
    from speechbrain_ser.inference import default_device

    import ruamel.yaml

    root = Path(a.data_root).resolve()
    missing = [c for c in a.corpora if not (root / FOLDERS.get(c, c)).is_dir()]
    if missing:
        sys.exit(f"gpu_path: {root} has no folder for {', '.join(missing)}")
    device = a.device or default_device()
    a.out.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    overrides = f"corpora=[{','.join(a.corpora)}] held_out=[{a.corpora[-1]}] held_out_languages=[]"
    exp = a.out / "labels"
    _run(["./run.sh", "--data-root", str(root), "--label-config", "conf/labels_real.yaml", "--label-overrides",
          overrides, "--stop-stage", "2", "--exp-dir", str(exp)], a.out / "stages_1_2.log")
    labels = exp / "data" / "labels"
    rows = []
    for name in a.systems:
        hp_file = RECIPE / "hparams" / f"{name}.yaml"
        hp = ruamel.yaml.YAML().load(merged_text(hp_file, {"output_folder": "o", "labels_folder": "l",
                                                           "data_root": "d"}))
        random_pad, system_pad, n_train = padding(hp, labels / "train.json")
        extra = ["--number_of_epochs", str(a.epochs)]
        if name in STAND_IN and not a.hub:
            from speechbrain_ser.models.tiny import make_tiny

            tiny = make_tiny(STAND_IN[name], a.out / f"tiny_{STAND_IN[name]}")
            extra += ["--upstream_source", str(tiny), "--encoder_dim", "32", "--encoder_layers", "3",
                      "--trainable_layers", "1"]
        run_dir = a.out / name
        for stale in ("train", "model"):  # each measurement from scratch
            subprocess.run(["rm", "-rf", str(run_dir / stale)])
        train = run_dir / "train"
        train_wall = _run([py, "-m", "speechbrain_ser.train", str(hp_file), "--labels_folder", str(labels),
                           "--data_root", str(root), "--output_folder", str(train), "--device", device,
                           "--feature_folder", str(a.out / "features"), *extra], a.out / f"{name}_train.log")
        epochs = [dict(re.findall(r"(utt_per_s|peak_gpu_gib): ([\d.e+-]+)", line))
                  for line in (train / "train_log.txt").read_text().splitlines() if line.startswith("epoch")]
        stage4_wall = _run([py, "-m", "speechbrain_ser.evaluate", "--task", "zero-shot", "--train-dir", str(train),
                            "--labels", str(labels), "--data-root", str(root), "--model-dir", str(run_dir / "model"),
                            "--device", device], a.out / f"{name}_stage4.log")
        m = re.search(r"(\d+) predictions in ([\d.]+) s \(([\d.]+) files/s\) on (\S+?)(?:, peak GPU memory ([\d.]+) GiB)?$",
                      (a.out / f"{name}_stage4.log").read_text(), re.M)
        rows.append({"system": name + (" (stand-in upstream)" if name in STAND_IN and not a.hub else ""),
                     "train utterances": n_train, "padding random": random_pad, "padding system": system_pad,
                     "sorting": hp["sorting"], "precision": hp["precision"],
                     "train utt/s": max(float(e.get("utt_per_s", 0)) for e in epochs),
                     "train peak GPU GiB": max((float(e["peak_gpu_gib"]) for e in epochs if "peak_gpu_gib" in e),
                                               default=float("nan")),
                     "stage 3 wall s": train_wall, "stage 4 files/s": float(m.group(3)) if m else float("nan"),
                     "stage 4 device": m.group(4) if m else "?",
                     "stage 4 peak GPU GiB": float(m.group(5)) if m and m.group(5) else float("nan"),
                     "stage 4 wall s": stage4_wall, **checkpoint_sizes(train)})
        r = rows[-1]
        print(f"{r['system']}: padding {r['padding random']:.1%} random -> {r['padding system']:.1%} "
              f"({r['sorting']}); training {r['train utt/s']:.1f} utt/s ({r['precision']}); stage 4 "
              f"{r['stage 4 files/s']:.1f} files/s on {r['stage 4 device']}; checkpoint weights "
              f"{r['weights_mb']:.1f} MB for {r['trainable_mb']:.1f} MB trainable "
              f"(x{r['weights_mb'] / max(r['trainable_mb'], 1e-9):.2f}), optimizer {r['optimizer_mb']:.1f} MB, "
              f"upstream written once {r['frozen_once_mb']:.1f} MB", flush=True)
    (a.out / "gpu_path.json").write_text(json.dumps(rows, indent=1))
    print(f"\nmachine: {device}" + (f" ({torch.cuda.get_device_name(0)})" if device.startswith("cuda") else
                                  f" ({torch.get_num_threads()} threads)") + f"; data {root} ({', '.join(a.corpora)})")
    cols = ["system", "train utterances", "padding random", "padding system", "train utt/s", "train peak GPU GiB",
            "stage 4 files/s", "stage 4 peak GPU GiB", "weights_mb", "trainable_mb", "optimizer_mb"]
    print("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{r[c]:.1%}" if c.startswith("padding") else
                                f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c]) for c in cols) + " |")


if __name__ == "__main__":
    main()
