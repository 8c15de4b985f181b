"""The project's own versions of two SpeechBrain parts against SpeechBrain's, on batches shaped as
the default system's training batches (frozen Whisper tiny.en from the feature cache: 384
dimensions, 5 hidden states in float16, 16 utterances of 1-6 s, 50 frames a second).

    .venv/bin/python benchmarks/library_parts.py [--repeats 7] [--batches 40]

* pooling: ``models.heads.Pooler`` (SpeechBrain's ``AttentiveStatisticsPooling`` parameters,
  the utterance terms projected once, closed-form backward) against SpeechBrain's
  ``AttentiveStatisticsPooling.forward``, forward + backward; the largest output difference.
* padding: ``datasets.pad_right`` (one copy into the batch) against SpeechBrain's
  ``batch_pad_right`` (pad each, then stack) on the cached hidden states.

Prints the median wall time of each over ``--repeats`` interleaved repetitions of ``--batches``
batches, and their ratio (one run; this machine is noisy). 2 threads.
"""
import argparse
import statistics
import time

import speechbrain as sb
import torch

from speechbrain_ser.datasets import pad_right
from speechbrain_ser.models.heads import Pooler

ap = argparse.ArgumentParser()
ap.add_argument("--repeats", type=int, default=7)
ap.add_argument("--batches", type=int, default=40)
a = ap.parse_args()
torch.set_num_threads(2)
torch.manual_seed(0)
D, LAYERS, B = 384, 5, 16
batches = [[torch.randn(int(torch.randint(50, 300, ())), LAYERS, D).half() for _ in range(B)] for _ in range(a.batches)]
pooler = Pooler(D)


def pool(ours: bool):
    for items in batches:
        x, lens = pad_right([t[:, 0].float() for t in items])
        x.requires_grad_(True)
        out = pooler(x, lens) if ours else pooler.asp(x.transpose(1, 2), lens).squeeze(-1)
        out.square().sum().backward()


def padding(ours: bool):
    for items in batches:
        pad_right(items) if ours else sb.utils.data_utils.batch_pad_right(items)


x, lens = pad_right([t[:, 0].float() for t in batches[0]])
pooler.eval()
diff = (pooler(x, lens) - pooler.asp(x.transpose(1, 2), lens).squeeze(-1)).abs().max().item()
pooler.train()
same = all(torch.equal(pad_right(items)[0], sb.utils.data_utils.batch_pad_right(items)[0]) for items in batches)
print(f"{a.batches} batches of {B} utterances, {D} dims, {LAYERS} layers; {a.repeats} interleaved repetitions, "
      f"median wall time")
for name, fn, check in (("pooling fwd+bwd", pool, f"max |difference| {diff:.1e} (eval mode)"),
                        ("padding", padding, f"identical batches: {same}")):
    times = {True: [], False: []}
    for _ in range(a.repeats):
        for ours in (True, False):
            t0 = time.perf_counter()
            fn(ours)
            times[ours].append(time.perf_counter() - t0)
    o, s = statistics.median(times[True]), statistics.median(times[False])
    print(f"{name:16s} ours {o:.3f} s, SpeechBrain's {s:.3f} s, ratio {s / o:.2f}x; {check}")
