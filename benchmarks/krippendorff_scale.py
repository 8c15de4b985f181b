"""Krippendorff's alpha at the real MSP-Podcast's scale: time and peak memory.

    .venv/bin/python benchmarks/krippendorff_scale.py [--units 150000 --workers 10000]

Simulates ``units`` utterances, each rated by 5-7 of ``workers`` annotators on the 10
MSP-Podcast primary codes (60 % agree with a hidden class), and computes nominal alpha
with ``labels.votes.krippendorff_alpha`` (per-unit value counts). Prints seconds, peak
RSS, and the size the dense annotators × units matrix of the old code would have needed.
"""
import argparse
import resource
import time

import numpy as np

from speechbrain_ser.labels.votes import krippendorff_alpha

ap = argparse.ArgumentParser()
ap.add_argument("--units", type=int, default=150_000)
ap.add_argument("--workers", type=int, default=10_000)
a = ap.parse_args()
rng = np.random.default_rng(0)
codes = list("ASHUFDCNOX")
units = []
for _ in range(a.units):
    raters = rng.choice(a.workers, int(rng.integers(5, 8)), replace=False)
    true = codes[int(rng.integers(8))]
    units.append({f"W{r}": true if rng.random() < 0.6 else codes[int(rng.integers(10))] for r in raters})
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
alpha = krippendorff_alpha(units, "nominal")
secs = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"units {a.units}, workers {a.workers}: alpha {alpha:.4f} in {secs:.2f} s; "
      f"peak RSS {rss:.0f} MB (simulated votes alone: {rss0:.0f} MB); "
      f"a dense annotators x units float64 matrix would be {a.workers * a.units * 8 / 2**30:.1f} GiB")
