"""Real-time factor of ser-predict's path (``EmotionRecognizer.predict_files``) on this machine.

    .venv/bin/python benchmarks/predict_rtf.py [--model exp/Multilingual16/mini/model] [--files 64]

Needs an exported model (``./run.sh`` makes ``exp/Multilingual16/mini/model``). Copies
``--files`` utterances of the embedded mini data to a temporary folder, half of them
resampled to 44.1 kHz stereo so that reading, mixing down and resampling are in the
measured path, then times the whole prediction (files read from disk included) with
batch size 1 and with ``--batch-size``. RTF = wall time / seconds of audio used
(the model's ``max_seconds`` cut included). Threads: 2 (this machine's cores).
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

ROOT = Path(__file__).resolve().parents[1]
ap = argparse.ArgumentParser()
ap.add_argument("--model", default=str(ROOT / "exp" / "Multilingual16" / "mini" / "model"))
ap.add_argument("--files", type=int, default=64)
ap.add_argument("--batch-size", type=int, default=16)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)

from speechbrain_ser.inference import load  # noqa: E402

labels = Path(a.model).parent / "data" / "labels" / "test.json"
if not labels.exists():
    raise SystemExit(f"{labels}: run ./run.sh (or give --model of a finished experiment)")
entries = json.loads(labels.read_text())
size = "tiny" if "tiny" in str(a.model) else "mini"
data_root = str(ROOT / "data" / f"synth_{size}")
model = load(a.model)
with tempfile.TemporaryDirectory() as tmp:
    paths = []
    for i, e in enumerate(list(entries.values())[: a.files]):
        x, sr = sf.read(e["wav"].replace("{data_root}", data_root), dtype="float32")
        p = Path(tmp) / f"u{i:04d}.wav"
        if i % 2:  # 44.1 kHz stereo: resampling and mixing down are part of the measured path
            y = AF.resample(torch.from_numpy(x), sr, 44100).numpy()
            sf.write(p, np.stack([y, y], 1), 44100)
        else:
            sf.write(p, x, sr)
        paths.append(str(p))
    list(model.predict_files(paths[:2], 2))  # warm-up (first-call allocations)
    audio = sum(r["seconds"] for _, r in model.predict_files(paths, a.batch_size))
    print(f"{len(paths)} files, {audio:.1f} s of audio used (max_seconds={model.max_seconds}), "
          f"{a.threads} threads")
    times = {}
    for bs in (1, a.batch_size):
        t0 = time.perf_counter()
        n = sum(1 for _ in model.predict_files(paths, bs))
        times[bs] = time.perf_counter() - t0
        print(f"batch {bs:>3}: {times[bs]:6.2f} s for {n} files  RTF {times[bs] / audio:.4f}  "
              f"({audio / times[bs]:.0f}x real time)")
    print(f"batched / batch 1 speed-up: {times[1] / times[a.batch_size]:.2f}x")
