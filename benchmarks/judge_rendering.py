"""Does the emotion rendering sound like the emotion to a model trained on real speech?

    .venv/bin/python benchmarks/judge_rendering.py --judge /tmp/rb/linns/seed0/model [--per-voice 6]

The judge is a model trained on real acted speech only (``benchmarks/real_corpora.py``: RAVDESS,
frozen Whisper tiny.en); the voices (``speechbrain_ser.synth.voices``) are ones it never heard.
For each voice, ``--per-voice`` clips (the last ones of its sorted list; the generator draws from
the front) are rendered as each of the 7 emotions of RAVDESS's mapping, and the judge predicts
them through ``ser-predict`` (``--classes`` restricted to the 7). Printed: the confusion matrix
(rendered emotion x judged emotion, row shares), its diagonal per emotion and mean, the judge's
mean P(high arousal) per rendered emotion, and the same for the unrendered clips; then the same
matrix *relative to the source*: each rendered clip's emotion is the class whose log-probability
rose most over its own unrendered clip (the judge's prior on an unfamiliar voice or channel cancels
out: does the rendering move the judge toward the emotion?); and the diagonal per voice.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from speechbrain_ser.synth.emotion_rendering import SAMPLE_RATE, identity_params, load_clip, render_emotion, sample_params  # noqa: E402
from speechbrain_ser.labels.harmonise import load_space  # noqa: E402
from speechbrain_ser.synth.voices import find_voices  # noqa: E402

CLASSES = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
HIGH = [c for c, g in load_space("unified").arousal.items() if g == "high"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--judge", required=True, help="an exported model trained on real speech")
    ap.add_argument("--per-voice", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    voices = find_voices()
    if not voices:
        sys.exit("no real voices installed (tools/setup.sh --embedded-data installs them)")
    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        truth = {}
        for v in voices.values():
            for clip in v.clips[-a.per_voice:]:
                x = load_clip(clip)
                for emo in ["source"] + CLASSES:
                    p = identity_params() if emo == "source" else sample_params({emo: 1.0}, rng, nuisance=False)
                    folder = Path(tmp) / (f"source_{v.name}" if emo == "source" else v.name)
                    folder.mkdir(exist_ok=True)
                    path = folder / f"{v.name}__{clip.stem}__{emo}.wav"
                    sf.write(path, render_emotion(x, p, rng) if emo != "source" else
                             x / (np.abs(x).max() + 1e-9) * 0.5, SAMPLE_RATE, subtype="PCM_16")
                    truth[str(path)] = emo
        lst, out = Path(tmp) / "files.csv", Path(tmp) / "pred.csv"
        lst.write_text("path\n" + "".join(f"{p}\n" for p in truth))
        groups = ["--groups", "folder"] if (Path(a.judge) / "speaker_norm_layer.ckpt").exists() else []
        r = subprocess.run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", a.judge, str(lst), "--out",
                            str(out), "--classes", ",".join(CLASSES), *groups], capture_output=True, text=True)
        if r.returncode:
            sys.exit(r.stderr[-3000:])
        rows = list(csv.DictReader(open(out)))
    rendered = ["source"] + CLASSES
    logp = {}
    for row in rows:
        ps = np.array([float(row[f"p_{c}"]) for c in CLASSES])
        logp[row["path"]] = np.log(ps / ps.sum() + 1e-9)
    source_of = {p: str(Path(p).parent.parent / f"source_{Path(p).parent.name}" / (Path(p).name.rsplit("__", 1)[0] + "__source.wav"))
                 for p in truth}
    absolute = {p: CLASSES[int(np.argmax(v))] for p, v in logp.items()}
    relative = {p: CLASSES[int(np.argmax(v - logp[source_of[p]]))] for p, v in logp.items() if truth[p] != "source"}
    print(f"judge {a.judge}; {len(voices)} voices x {a.per_voice} clips; rows: rendered, columns: judged"
          + ("; grouped by voice (speaker normalisation)" if groups else ""))
    for title, judged, rows_of in (("judged as", absolute, rendered), ("moved most toward", relative, CLASSES)):
        m = np.zeros((len(rows_of), len(CLASSES)))
        high = {e: [] for e in rows_of}
        for p, c in judged.items():
            m[rows_of.index(truth[p]), CLASSES.index(c)] += 1
            high[truth[p]].append(np.exp(logp[p])[[CLASSES.index(h) for h in HIGH]].sum())
        share = m / m.sum(1, keepdims=True)
        print(f"\n{title}:\n| rendered | " + " | ".join(CLASSES) + " | P(high arousal) |")
        print("|---" * (len(CLASSES) + 2) + "|")
        for i, e in enumerate(rows_of):
            print(f"| {e} | " + " | ".join(f"{v:.2f}" for v in share[i]) + f" | {np.mean(high[e]):.2f} |")
        diag = {e: share[rows_of.index(e), CLASSES.index(e)] for e in CLASSES}
        print("diagonal: " + ", ".join(f"{e} {v:.2f}" for e, v in diag.items())
              + f"; mean {np.mean(list(diag.values())):.3f} (chance {1 / len(CLASSES):.3f})")
    print("\nper voice (absolute diagonal mean / relative diagonal mean / P(high) anger - sadness):")
    for v in voices:
        mine = [p for p in relative if Path(p).name.startswith(v + "__")]
        ab = np.mean([absolute[p] == truth[p] for p in mine])
        rel = np.mean([relative[p] == truth[p] for p in mine])
        hi = {e: np.mean([np.exp(logp[p])[[CLASSES.index(h) for h in HIGH]].sum() for p in mine if truth[p] == e])
              for e in ("anger", "sadness")}
        print(f"  {v:14s} {ab:.2f} / {rel:.2f} / {hi['anger'] - hi['sadness']:+.2f}")


if __name__ == "__main__":
    main()
