"""Judge-in-the-loop tuning of the emotion rendering (``speechbrain_ser/synth/emotion_rendering.py``).

    .venv/bin/python benchmarks/tune_rendering.py --judge /tmp/rb/snclean/seed0/model --out /tmp/tune

The judge is a speaker-normalised model trained on real acted speech only (``real_corpora.py``:
RAVDESS training actors, frozen Whisper tiny.en). It hears each voice as a speaker-normalised model
hears a speaker: its features standardised with the statistics of all that voice's renderings
(every emotion, the same clips), so a voice's channel and timbre cancel and what is left is how
each emotion departs from the voice's own average.

What is tuned: per emotion (neutral stays the near-identity reference), the centres of its
parameter ranges (widths kept; optional effects - aspiration, vibrato, creak - may be switched on
or off), inside bounds wider than the rule tables' (``BOUNDS``). Search: a (1+lambda) evolution
strategy per emotion, a few parameters mutated per candidate; the objective is the judge's mean
log-probability of the rendered emotion over the tuning clips. Every candidate renders the same
clips with the same random draws (common random numbers), so candidates differ by their ranges
only. After each round the voices' statistics are recomputed from the current best renderings.

Measured (README, "The judge"): the judge's diagonal rose from 0.344 to 0.431 on the report clips,
but a model trained on data rendered with the tuned ranges did worse on real RAVDESS and URDU than
with the rule tables' ranges, so ``emotion_rendering.EMOTIONS`` keeps the rule tables. A judge's approval is
necessary, not sufficient: check any tuned table with a training run and ``model_on_real.py``.

Clips: the voices' reserved clips (never in the generated data, ``generate.RESERVED_CLIPS``);
``--tune-clips`` from the front of that reserve tune, the last ``--report-clips`` are rendered only
for the final confusion matrices (before and after), which the tuning never sees. The final
rendering is judged through ``ser-predict`` by ``judge_rendering.py`` once the table is in the code.

Printed: the objective per emotion and round, the confusion matrices before/after on the report
clips, and the tuned table as Python (for ``emotion_rendering.EMOTIONS``); ``--out`` keeps it as JSON.
"""
from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speechbrain_ser.brains.emotion import utterance_embedding  # noqa: E402
from speechbrain_ser.inference import load  # noqa: E402
from speechbrain_ser.speaker_norm import FrameStats  # noqa: E402
from speechbrain_ser.synth import emotion_rendering  # noqa: E402
from speechbrain_ser.synth.generate import MAX_SOURCE_SECONDS, RESERVED_CLIPS  # noqa: E402
from speechbrain_ser.synth.voices import find_voices  # noqa: E402

CLASSES = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
TUNED = [c for c in CLASSES if c != "neutral"]
# centre bounds and mutation step per parameter (log-domain for emotion_rendering.LOG_PARAMS)
BOUNDS = dict(formant=(0.90, 1.15), f0_st=(-6.0, 10.0), range=(0.3, 2.6), slope_st=(-6.0, 6.0), rate=(0.7, 1.4),
              pause=(0.5, 2.0), gain_db=(-12.0, 12.0), tilt_db=(-14.0, 14.0), dyn=(0.5, 2.0), jitter=(0.0, 0.05),
              breath_db=(-60.0, -12.0), vib_st=(-0.5, 1.5), creak=(-0.2, 0.5))
STEP = dict(formant=0.02, f0_st=1.0, range=0.15, slope_st=1.0, rate=0.05, pause=0.12, gain_db=2.0, tilt_db=2.0,
            dyn=0.1, jitter=0.006, breath_db=5.0, vib_st=0.3, creak=0.1)
# optional effects: off at or below this centre; half-width when switched on
OPTIONAL = dict(breath_db=(-50.0, 4.0), vib_st=(0.05, 0.35), creak=(0.02, 0.1))
FLOOR = dict(jitter=0.0, vib_st=0.0, creak=0.0)


def centres(spec: dict) -> dict:
    """{param: (centre, half-width)} of an emotion's ranges (None = off)."""
    full = {**emotion_rendering.NEUTRAL, **spec}
    out = {}
    for k in BOUNDS:
        r = full[k]
        if r is None:
            out[k] = (BOUNDS[k][0], OPTIONAL[k][1])
        elif k in emotion_rendering.LOG_PARAMS:
            out[k] = (float(np.exp(np.mean(np.log(r)))), float(np.log(r[1] / r[0]) / 2))
        else:
            out[k] = (float(np.mean(r)), float((r[1] - r[0]) / 2))
    return out


def ranges(c: dict) -> dict:
    """The emotion's range table from centres (the inverse of ``centres``)."""
    out = {}
    for k, (m, w) in c.items():
        if k in OPTIONAL and m <= OPTIONAL[k][0]:
            out[k] = None
        elif k in emotion_rendering.LOG_PARAMS:
            out[k] = (round(float(m * np.exp(-w)), 3), round(float(m * np.exp(w)), 3))
        else:
            lo, hi = m - w, m + w
            if k in FLOOR:
                lo, hi = max(lo, FLOOR[k]), max(hi, FLOOR[k] + 1e-3)
            out[k] = (round(float(lo), 3), round(float(hi), 3))
    return out


def mutate(c: dict, rng: np.random.Generator, n: int = 3) -> dict:
    new = dict(c)
    for k in rng.choice(sorted(BOUNDS), size=n, replace=False):
        m, w = c[k]
        lo, hi = BOUNDS[k]
        if k in emotion_rendering.LOG_PARAMS:
            m = float(np.clip(m * np.exp(rng.normal() * STEP[k]), lo, hi))
        else:
            m = float(np.clip(m + rng.normal() * STEP[k], lo, hi))
        new[k] = (m, w)
    return new


class Judge:
    def __init__(self, model_dir):
        self.m = load(model_dir)
        if not self.m.speaker_normalised:
            raise SystemExit("the judge must be a speaker-normalised model (speaker_norm: True)")
        self.idx = [self.m.classes.index(c) for c in CLASSES]

    @torch.no_grad()
    def hidden(self, wav: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.asarray(wav, np.float32))[: int(self.m.max_seconds * 16000)]
        return self.m.mods.upstream(x[None])[:, 0].transpose(0, 1)  # (T, L, D)

    @staticmethod
    def stats(hiddens: list) -> torch.Tensor:
        acc = FrameStats()
        for h in hiddens:
            acc.add(h.numpy())
        return acc.result()

    @torch.no_grad()
    def logp(self, h: torch.Tensor, stats: torch.Tensor) -> np.ndarray:
        """log P over CLASSES (renormalised over them) of one utterance's hidden states."""
        emb = utterance_embedding(self.m.mods, None, torch.ones(1), feats=h[None], speaker_stats=stats[None])
        logits = self.m.mods.head(emb) / self.m.temperature
        p = torch.softmax(logits, -1)[0, self.idx].numpy()
        return np.log(p / p.sum() + 1e-12)


def render_all(sources: dict, table: dict, emotions: list, seed: int) -> dict:
    """{(voice, clip index, emotion): waveform}; draws fixed by (seed, voice, clip, emotion)."""
    out = {}
    for vi, (v, clips) in enumerate(sorted(sources.items())):
        for ci, x in enumerate(clips):
            for e in emotions:
                rng = np.random.default_rng([seed, vi, ci, CLASSES.index(e)])
                out[(v, ci, e)] = emotion_rendering.render_emotion(x, emotion_rendering.sample_params({e: 1.0}, rng, table=table), rng)
    return out


def voice_stats(judge: Judge, sources: dict, table: dict, seed: int) -> tuple[dict, dict]:
    """Every emotion rendered on every clip: ({key: hidden states}, {voice: statistics of its renderings})."""
    hid = {k: judge.hidden(w) for k, w in render_all(sources, table, CLASSES, seed).items()}
    return hid, {v: judge.stats([h for (vv, _, _), h in hid.items() if vv == v]) for v in sources}


def confusion(judge: Judge, sources: dict, table: dict, seed: int) -> np.ndarray:
    hid, st = voice_stats(judge, sources, table, seed)
    m = np.zeros((len(CLASSES), len(CLASSES)))
    for (v, _, e), h in hid.items():
        m[CLASSES.index(e), int(np.argmax(judge.logp(h, st[v])))] += 1
    return m / m.sum(1, keepdims=True)


def show(title: str, share: np.ndarray):
    print(f"\n{title}\n| rendered | " + " | ".join(CLASSES) + " |\n" + "|---" * (len(CLASSES) + 1) + "|")
    for i, e in enumerate(CLASSES):
        print(f"| {e} | " + " | ".join(f"{v:.2f}" for v in share[i]) + " |")
    d = np.diag(share)
    print("diagonal: " + ", ".join(f"{e} {v:.2f}" for e, v in zip(CLASSES, d)) + f"; mean {d.mean():.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--judge", required=True)
    ap.add_argument("--tune-clips", type=int, default=6, help="per voice, from the front of the reserve")
    ap.add_argument("--report-clips", type=int, default=6, help="per voice, the end of the reserve")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=Path, help="a tuned.json of an earlier run to continue from")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    if a.tune_clips + a.report_clips > RESERVED_CLIPS:
        sys.exit(f"--tune-clips + --report-clips must be <= {RESERVED_CLIPS} (the reserved clips)")
    torch.set_num_threads(2)
    t_start = time.time()
    judge = Judge(a.judge)
    voices = find_voices()

    def sources(sl):
        out = {}
        for name, v in voices.items():
            out[name] = [emotion_rendering.load_clip(c)[: int(MAX_SOURCE_SECONDS * 16000)] for c in v.clips[-RESERVED_CLIPS:][sl]]
        return out

    tune, report = sources(slice(0, a.tune_clips)), sources(slice(RESERVED_CLIPS - a.report_clips, None))
    table = copy.deepcopy(emotion_rendering.EMOTIONS)
    if a.start:
        table.update({e: {k: None if v is None else tuple(v) for k, v in spec.items()}
                      for e, spec in json.loads(a.start.read_text()).items()})
    before = confusion(judge, report, table, a.seed + 1)
    show("before (report clips, the starting table):", before)
    rng = np.random.default_rng(a.seed)
    cur = {e: centres(table[e]) for e in TUNED}
    for rnd in range(a.rounds):
        _, st = voice_stats(judge, tune, table, a.seed)

        def score(e, c):
            t = {**table, e: ranges(c)}
            w = render_all(tune, t, [e], a.seed)
            return float(np.mean([judge.logp(judge.hidden(x), st[v])[CLASSES.index(e)] for (v, _, _), x in w.items()]))

        for e in TUNED:
            best = score(e, cur[e])
            start = best
            for _ in range(a.generations):
                cands = [mutate(cur[e], rng) for _ in range(a.candidates)]
                scores = [score(e, c) for c in cands]
                i = int(np.argmax(scores))
                if scores[i] > best:
                    best, cur[e] = scores[i], cands[i]
            table[e] = ranges(cur[e])
            print(f"round {rnd} {e:10s} mean log P {start:+.3f} -> {best:+.3f}  ({time.time() - t_start:.0f} s)", flush=True)
    after = confusion(judge, report, table, a.seed + 1)
    show("before (report clips, the starting table):", before)
    show("after (report clips, the tuned table):", after)
    print("\nEMOTIONS = {\n    \"neutral\": {},")
    for e in sorted(TUNED, key=list(emotion_rendering.EMOTIONS).index):
        print(f"    {e!r}: dict(" + ", ".join(f"{k}={v!r}" for k, v in table[e].items()) + "),")
    print("}")
    if a.out:
        a.out.mkdir(parents=True, exist_ok=True)
        (a.out / "tuned.json").write_text(json.dumps({e: table[e] for e in TUNED}, indent=1))
    print(f"total {time.time() - t_start:.0f} s")


if __name__ == "__main__":
    main()
