import argparse
import logging
import time

from .generate import SIZES, generate
from . import layouts
from .voices import DEFAULT_VOICES, VOICE_CHOICES

ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.synth",
                             description="Generate the embedded synthetic emotional corpora.")
ap.add_argument("--out", required=True, help="data root to create")
ap.add_argument("--size", default="tiny", choices=sorted(SIZES))
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--voices", default=DEFAULT_VOICES, choices=list(VOICE_CHOICES),
                help="; ".join(f"{k}: {v}" for k, v in VOICE_CHOICES.items()) + f" (default {DEFAULT_VOICES})")
ap.add_argument("--corpora", default=",".join(layouts.NAMES), help="comma-separated corpus names")
a = ap.parse_args()
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
t0 = time.time()
counts = generate(a.out, a.size, a.seed, [c for c in a.corpora.split(",") if c], a.voices)
print(f"generated {sum(counts.values())} utterances in {len(counts)} corpora "
      f"({a.size}, seed {a.seed}) in {time.time() - t0:.1f}s")
