"""Shared by the benchmark scripts: run a module in a fresh process and measure it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WRAPPER = ("import resource, runpy, sys, time; sys.argv = sys.argv[1:]; t = time.perf_counter()\n"
            "try:\n    runpy.run_module(sys.argv[0], run_name='__main__')\n"
            "finally:\n    print('BENCH', time.perf_counter() - t, "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stderr)")


def timed(module_and_args: list) -> tuple:
    """(wall seconds, peak RSS MB) of ``python -m module args...`` in a fresh process of its own
    (``ru_maxrss`` of that process alone, not of this one)."""
    r = subprocess.run([sys.executable, "-c", _WRAPPER, *module_and_args], capture_output=True, text=True, cwd=ROOT)
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    line = [x for x in r.stderr.splitlines() if x.startswith("BENCH ")][-1].split()
    return float(line[1]), float(line[2])
