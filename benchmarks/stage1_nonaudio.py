"""Stage 1's up-to-date check on a corpus folder that holds big non-audio files.

    .venv/bin/python benchmarks/stage1_nonaudio.py [--gb 2]

IEMOCAP_full_release ships ~10 GB of ``.avi`` and motion-capture files beside the
audio; CREMA-D ships ``VideoFlash/`` and ``AudioMP3/``. The benchmark makes the tiny
embedded IEMOCAP, adds a ``--gb`` GB dummy video
(``Session1/dialog/avi/DivX/Ses01F_impro01.avi``, random bytes written to disk),
runs ``prepare manifests --corpora iemocap`` once, then times a second run in a fresh
process (nothing to do: inputs unchanged). Goal: second run under 2 s.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import timed  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gb", type=float, default=2.0)
    a = ap.parse_args()
    from speechbrain_ser.synth.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        generate(root, "tiny", seed=0, names=["iemocap"])
        avi = root / "IEMOCAP_full_release" / "Session1" / "dialog" / "avi" / "DivX" / "Ses01F_impro01.avi"
        avi.parent.mkdir(parents=True, exist_ok=True)
        block = os.urandom(1 << 24)
        with open(avi, "wb") as f:
            for _ in range(int(a.gb * (1 << 30)) >> 24):
                f.write(block)
        print(f"dummy video: {avi.stat().st_size / 2 ** 30:.2f} GB")
        args = ["speechbrain_ser.prepare", "manifests", "--data-root", str(root), "--out", str(Path(tmp) / "m"),
                "--corpora", "iemocap"]
        t1, _ = timed(args)
        t2, rss = timed(args)
        print(f"first run (reads the corpus): {t1:.2f} s; second run (up to date): {t2:.2f} s, peak RSS {rss:.0f} MB")
        print("goal: second run < 2 s -> " + ("met" if t2 < 2 else "NOT met"))


if __name__ == "__main__":
    main()
