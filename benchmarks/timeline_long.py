"""Emotion over time on long audio: peak memory and speed of ``predict_timeline``.

    .venv/bin/python benchmarks/timeline_long.py [--model exp/Multilingual16/mini/model]
        [--minutes 6 60] [--rate 16000] [--window 3 --hop 1 --batch-size 16]

For each length, a file of that many minutes is written (block by block, never
held in memory) by repeating the embedded mini data's utterances, then a fresh
process loads the exported model and runs ``predict_timeline`` on it. Printed
per length: windows, wall time, real-time factor (wall time / audio duration;
file reading, resampling, windows and segments included) and the process's
peak RSS (``ru_maxrss``), with the RSS after loading the model for reference.
If memory were proportional to the file, the 60-minute peak would be ~10x the
6-minute one; with streaming both are the model plus one batch of windows.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def make_long_file(path: Path, minutes: float, rate: int, sources: list):
    import soundfile as sf
    import torch
    import torchaudio.functional as AF

    need = int(minutes * 60 * rate)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=1, subtype="PCM_16") as f:
        k = 0
        while need > 0:
            x, sr = sf.read(sources[k % len(sources)], dtype="float32")
            if sr != rate:
                x = AF.resample(torch.from_numpy(x), sr, rate).numpy()
            x = x[:need]
            f.write(x)
            need -= len(x)
            k += 1


def one(args) -> dict:
    """Runs in its own process: load, predict, report."""
    import torch

    from speechbrain_ser.inference import load

    torch.set_num_threads(args.threads)
    base = rss_mb()
    model = load(args.model)
    loaded = rss_mb()
    t0 = time.perf_counter()
    tl = model.predict_timeline(args.one, args.window, args.hop, batch_size=args.batch_size)
    wall = time.perf_counter() - t0
    return dict(seconds_audio=tl["duration"], windows=len(tl["windows"]), segments=len(tl["segments"]),
                wall=wall, rtf=wall / tl["duration"], rss_start_mb=base, rss_model_mb=loaded, rss_peak_mb=rss_mb())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(ROOT / "exp" / "Multilingual16" / "mini" / "model"))
    ap.add_argument("--data", default=str(ROOT / "data" / "synth_mini" / "EmoDB"), help="utterances to repeat")
    ap.add_argument("--minutes", type=float, nargs="+", default=[6, 60])
    ap.add_argument("--rate", type=int, default=16000, help="sample rate of the long file")
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--hop", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a)))
        return
    sources = sorted(str(p) for p in Path(a.data).rglob("*.wav"))
    if not sources:
        sys.exit(f"no .wav under {a.data}: run ./run.sh first (it makes the mini data and the model)")
    if not (Path(a.model) / "hyperparams.yaml").exists():
        sys.exit(f"{a.model}: no exported model; run ./run.sh first")
    print(f"model {a.model}; window {a.window} s, hop {a.hop} s, batch {a.batch_size}, {a.threads} threads, "
          f"file rate {a.rate} Hz")
    print(f"{'minutes':>8} {'windows':>8} {'wall s':>8} {'RTF':>8} {'RSS model MB':>13} {'RSS peak MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.minutes:
            path = Path(tmp) / f"long_{m:g}min.wav"
            make_long_file(path, m, a.rate, sources)
            cmd = [sys.executable, __file__, "--one", str(path), "--model", a.model, "--window", str(a.window),
                   "--hop", str(a.hop), "--batch-size", str(a.batch_size), "--threads", str(a.threads)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                sys.exit(r.stderr[-3000:])
            res = json.loads(r.stdout.strip().splitlines()[-1])
            print(f"{m:>8g} {res['windows']:>8d} {res['wall']:>8.1f} {res['rtf']:>8.4f} "
                  f"{res['rss_model_mb']:>13.0f} {res['rss_peak_mb']:>12.0f}", flush=True)
            path.unlink()
    print(f"RTF = wall time / audio duration; {np.round(a.window / a.hop, 2)} windows cover each second")


if __name__ == "__main__":
    main()
