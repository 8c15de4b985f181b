"""Real-time factor of ser-predict's path (``predict_files``) per backend, and what int8 costs in accuracy.

    .venv/bin/python benchmarks/predict_rtf.py [--model exp/Multilingual16/mini/model] [--files 64]
        [--backends torch onnx onnx-int8]

Needs an exported model with its ONNX graphs (``./run.sh`` makes
``exp/Multilingual16/mini/model``; stage 4 writes model.onnx and model.int8.onnx).
Copies ``--files`` utterances of the embedded mini data to a temporary folder, half
of them resampled to 44.1 kHz stereo so that reading, mixing down and resampling
are in the measured path, then times the whole prediction (files read from disk
included) with batch size 1 and with ``--batch-size``, per backend. RTF = wall
time / seconds of audio used (the model's ``max_seconds`` cut included).
Threads: 2 (this machine's cores) for torch and onnxruntime alike.

Then, per backend, the zero-shot micro-F1 on the experiment's held-out corpora
(stage 2's ``zeroshot_*.json``, predictions restricted to each corpus's classes
as stage 4 scores them), and the largest probability difference to torch.
"""
import argparse
import json
import sys
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
ap.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
a = ap.parse_args()
torch.set_num_threads(a.threads)

from speechbrain_ser import metrics  # noqa: E402
from speechbrain_ser.inference import load  # noqa: E402
from speechbrain_ser.onnx_export import OnnxRecognizer  # noqa: E402

labels = Path(a.model).parent / "data" / "labels"
if not (labels / "test.json").exists():
    raise SystemExit(f"{labels}: run ./run.sh (or give --model of a finished experiment)")
entries = json.loads((labels / "test.json").read_text())
size = "tiny" if "tiny" in str(a.model) else "mini"
data_root = str(ROOT / "data" / f"synth_{size}")


def backend(name):
    if name == "torch":
        return load(a.model)
    return OnnxRecognizer(a.model, int8=name == "onnx-int8", threads=a.threads)


models = {b: backend(b) for b in a.backends}
times = {}
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
    first = models[a.backends[0]]
    audio = sum(r["seconds"] for _, r in first.predict_files(paths, a.batch_size))
    print(f"{len(paths)} files, {audio:.1f} s of audio used (max_seconds={first.max_seconds}), {a.threads} threads")
    for b, m in models.items():
        list(m.predict_files(paths[:2], 2))  # warm-up (first-call allocations)
        for bs in (1, a.batch_size):
            t0 = time.perf_counter()
            n = sum(1 for _ in m.predict_files(paths, bs))
            times[b, bs] = time.perf_counter() - t0
            print(f"{b:>10} batch {bs:>3}: {times[b, bs]:6.2f} s for {n} files  RTF {times[b, bs] / audio:.4f}  "
                  f"({audio / times[b, bs]:.0f}x real time)", flush=True)
base = a.backends[0]
for b in a.backends[1:]:
    print(f"{b} vs {base}, batch {a.batch_size}: {times[base, a.batch_size] / times[b, a.batch_size]:.2f}x faster")

# zero-shot micro-F1 per backend, restricted to each corpus's inventory (stage 2's summary)
summary = json.loads((labels / "summary.json").read_text())
classes = summary["space"]
scores, probs_of = {b: [] for b in models}, {}
for f in sorted(labels.glob("zeroshot_*.json")):
    es = {u: e for u, e in json.loads(f.read_text()).items() if e.get("hard") in classes}
    corpus = next(iter(es.values()))["corpus"]
    allowed = [classes.index(c) for c in summary["corpora"][corpus]["inventory"]]
    wavs = [e["wav"].replace("{data_root}", data_root) for e in es.values()]
    refs = np.array([classes.index(e["hard"]) for e in es.values()])
    for b, m in models.items():
        res = dict(m.predict_files(wavs, a.batch_size))
        p = np.array([[res[i]["probs"][c] for c in classes] for i in range(len(wavs))])
        probs_of[b, corpus] = p
        scores[b].append(metrics.classification(refs, metrics.restrict(p, allowed), allowed)["micro_f1"])
    print(f"zero-shot {corpus:>8} (n={len(refs)}): " + ", ".join(f"{b} {scores[b][-1]:.3f}" for b in models))
print("zero-shot mean micro-F1: " + ", ".join(f"{b} {np.mean(s):.4f}" for b, s in scores.items()))
for b in a.backends[1:]:
    diff = max(np.abs(probs_of[b, c] - probs_of[base, c]).max() for (bb, c) in probs_of if bb == b)
    flips = sum(int((probs_of[b, c].argmax(1) != probs_of[base, c].argmax(1)).sum()) for (bb, c) in probs_of
                if bb == b)
    print(f"{b} vs {base}: largest probability difference {diff:.2e}; argmax changed on {flips} utterances")
sys.exit(0)
