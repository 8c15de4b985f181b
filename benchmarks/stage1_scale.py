"""Stage 1 (manifests) of Multilingual16 corpora at their real sizes: files per second.

    .venv/bin/python benchmarks/stage1_scale.py [--corpora esd crema_d subesco]

Writes, in a temporary data root, each corpus in its real release layout and
size with the real file names (ESD 35,000: 20 speakers x 5 emotions x 350 in
``<SPK>/<Emotion>/<split>/<SPK>_<NNNNNN>.wav``; CREMA-D 7,442: 91 actors,
``AudioWAV/1001_DFA_ANG_XX.wav`` and ``VideoDemographics.csv``; SUBESCO 7,000:
20 speakers x 10 sentences x 7 emotions x 5 takes, ``F_01_OISHI_S_1_ANGRY_1.wav``),
every audio file a hard link to one of 8 short WAVs (so stage 1 reads real
headers while the disk holds 8 files). Then ``prepare manifests`` runs over all of
them in a fresh process; printed: files, wall time, files per second and peak RSS.
Goal: >= 2,000 files/s from headers.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))
from common import timed  # noqa: E402

ESD_EMOTIONS = ["Neutral", "Angry", "Happy", "Sad", "Surprise"]
CREMA_SENTENCES = ["IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI"]
CREMA_EMOTIONS = ["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"]
SUBESCO_EMOTIONS = ["ANGRY", "DISGUST", "FEAR", "HAPPY", "NEUTRAL", "SAD", "SURPRISE"]


def esd(root: Path):
    for s in range(1, 21):
        spk = f"{s:04d}"
        for b, emo in enumerate(ESD_EMOTIONS):
            for pos in range(1, 351):
                split = "evaluation" if pos <= 20 else "test" if pos <= 50 else "train"
                yield root / "ESD" / spk / emo / split / f"{spk}_{b * 350 + pos:06d}.wav"


def crema_d(root: Path):
    base = root / "CREMA-D"
    base.mkdir(parents=True, exist_ok=True)
    rows = ["ActorID,Age,Sex,Race,Ethnicity"] + [f"{a},30,{'Female' if a % 2 else 'Male'},Caucasian,Not Hispanic"
                                                 for a in range(1001, 1092)]
    (base / "VideoDemographics.csv").write_text("\n".join(rows) + "\n")
    names = []
    for a in range(1001, 1092):
        for sent in CREMA_SENTENCES:
            for emo in CREMA_EMOTIONS:
                levels = (["LO", "MD", "HI"] if emo != "NEU" else ["XX"]) if sent == "IEO" else ["XX"]
                names += [base / "AudioWAV" / f"{a}_{sent}_{emo}_{lv}.wav" for lv in levels]
    return names[:7442]  # the release misses a few of the planned files


def subesco(root: Path):
    for g in "FM":
        for k in range(1, 11):
            name = f"{g}_{k:02d}_SPEAKER{chr(64 + k)}"
            for sent in range(1, 11):
                for emo in SUBESCO_EMOTIONS:
                    for take in range(1, 6):
                        yield root / "SUBESCO" / f"{name}_S_{sent}_{emo}_{take}.wav"


MAKERS = {"esd": esd, "crema_d": crema_d, "subesco": subesco}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpora", nargs="+", default=list(MAKERS), choices=list(MAKERS))
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        sources = []
        for k in range(8):
            p = Path(tmp) / f"source_{k}.wav"
            sf.write(p, (0.1 * rng.standard_normal(int(16000 * (1.5 + 0.25 * k)))).astype("float32"), 16000,
                     subtype="PCM_16")
            sources.append(p)
        counts = {}
        for name in a.corpora:
            paths = list(MAKERS[name](data))
            for i, p in enumerate(paths):
                p.parent.mkdir(parents=True, exist_ok=True)
                os.link(sources[i % 8], p)
            counts[name] = len(paths)
        out = Path(tmp) / "manifests"
        wall, rss = timed(["speechbrain_ser.prepare", "manifests", "--data-root", str(data),
                           "--corpora", ",".join(a.corpora), "--out", str(out)])
        got = {n: len(json.loads((out / f"{n}.json").read_text())) for n in a.corpora}
    total = sum(counts.values())
    print("files per corpus: " + ", ".join(f"{n} {counts[n]} (manifest {got[n]})" for n in a.corpora))
    print(f"stage 1: {total} files in {wall:.1f} s = {total / wall:,.0f} files/s (process start and imports "
          f"included); peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
