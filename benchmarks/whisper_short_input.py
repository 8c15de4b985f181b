"""Encode time of a 4 s clip: variable-length Whisper encoder vs the padded 30 s path.

    .venv/bin/python benchmarks/whisper_short_input.py [--repeats 10] [--seconds 4]

Prints the median wall time of each path and their ratio, measured in one run
(this machine is noisy: compare ratios, not absolute times).
"""
import argparse
import statistics
import time

import torch

from speechbrain_ser.models.upstream import WhisperUpstream
from speechbrain_ser.models.whisper_ct2 import ensure_converted
from speechbrain_ser.synth.espeak_prosody import blend_params, espeak

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=10)
ap.add_argument("--seconds", type=float, default=4.0)
a = ap.parse_args()
torch.set_num_threads(2)
text = "This is a short sentence used to time the Whisper encoder on the central processing unit. " * 3
x = torch.from_numpy(espeak(text, "en-us", blend_params({"neutral": 1.0})))
n = int(a.seconds * 16000)
x = torch.nn.functional.pad(x, (0, max(0, n - len(x))))[:n][None]
up = WhisperUpstream(str(ensure_converted("tiny.en")), None).eval()
times = {}
for pad in (False, True, False, True):
    up.pad_to_30s = pad
    with torch.no_grad():
        up(x)  # warm-up
        ts = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            up(x)
            ts.append(time.perf_counter() - t0)
    times.setdefault(pad, []).extend(ts)
short, full = statistics.median(times[False]), statistics.median(times[True])
print(f"whisper tiny.en encoder, {a.seconds:.0f} s clip, {2 * a.repeats} runs each, 2 threads")
print(f"  variable length (positions cut): {1000 * short:7.1f} ms")
print(f"  padded to 30 s                 : {1000 * full:7.1f} ms")
print(f"  speed-up                       : {full / short:7.1f}x")
