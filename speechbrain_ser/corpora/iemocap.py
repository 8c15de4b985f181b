"""IEMOCAP (Busso et al., 2008): 5 dyadic sessions, 10 actors, per-evaluator labels.

Release read: ``IEMOCAP_full_release`` (USC SAIL). Files read, per session:

* ``SessionN/sentences/wav/<dialog>/<utt>.wav`` (``Ses01F_impro01_F000``: the
  letter before the turn number is the speaker's gender);
* ``SessionN/dialog/EmoEvaluation/<dialog>.txt``: a summary line per turn
  ``[start - end]<TAB>utt<TAB>label<TAB>[V, A, D]`` (label neu, hap, exc, sad, ang,
  fru, sur, fea, dis, oth or xxx = no majority; V/A/D on 1-5), followed by one
  line per categorical evaluation (``C-E2:<TAB>Frustration; Anger;<TAB>(...)``)
  and per dimensional evaluation (``A-E3:<TAB>val 3; act 2; dom  2;<TAB>()``);
* ``SessionN/dialog/transcriptions/<dialog>.txt``: ``utt [start-end]: text``.

Votes. ``C-E<n>`` lines are the external evaluators, the annotators of the usual
protocol (the summary label is their majority). ``C-F<n>``/``C-M<n>`` lines are
the two actors' *self*-evaluations of their own turns; they are not annotator
votes and are left out by default (reader option ``self_evaluations=true``
includes them, e.g. ``--reader-option iemocap.self_evaluations=true``).
An evaluator may tick several categories on one line; the release does not rank
them. The first category written is taken as that evaluator's *primary* vote
(it is the only choice that needs no extra information, and it is what a
single-label reading of the line gives), and every category on the line,
the first included, is one of its *secondary* votes, so the S (secondary)
distribution uses all of them and no selection is lost.

Split: the common leave-sessions-out protocol, Session5 test, Session4 dev.
The ``SessionN`` folders are found directly below the corpus folder or one level
deeper (an archive unpacked into ``IEMOCAP_full_release/IEMOCAP_full_release/``).
A turn whose wav is missing is listed in ``rejected_iemocap.tsv``; a malformed
evaluation line is an error naming file and line.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import CorpusError, Row, audio_file

NAME, LANGUAGE, DIRNAME = "iemocap", "en", "IEMOCAP_full_release"
LABELS = {"neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx"}
WORDS = {"Neutral": "neu", "Happiness": "hap", "Excited": "exc", "Sadness": "sad",
         "Anger": "ang", "Frustration": "fru", "Surprise": "sur", "Fear": "fea",
         "Disgust": "dis", "Other": "oth"}
SPLIT = {"Session1": "train", "Session2": "train", "Session3": "train", "Session4": "dev",
         "Session5": "test"}
SUMMARY = re.compile(r"\[(\d+\.\d+) - (\d+\.\d+)\]\t(\S+)\t(\S+)\t\[(\S+), (\S+), (\S+)\]")
CAT = re.compile(r"C-([EFM])(\d+):\t(.*?)\t\((.*)\)")
DIM = re.compile(r"(A-[EFM]\d+):\tval (\d+); act (\d+); dom\s+(\d+);\t\((.*)\)")
TRANS = re.compile(r"(\S+) \[[\d.]+-[\d.]+\]: (.*)")


def _evaluations(path: Path, self_evaluations: bool = False):
    """utt -> dict(label, vad, votes, line) from one EmoEvaluation file."""
    out, cur = {}, None
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip() or line.startswith("%"):
            continue
        if line.startswith("["):
            m = SUMMARY.fullmatch(line.strip())
            if not m:
                raise CorpusError(path, "malformed turn summary line", n)
            if m.group(4) not in LABELS:
                raise CorpusError(path, f"unknown IEMOCAP label '{m.group(4)}' (known: {sorted(LABELS)})", n)
            v, a, d = (float(x) for x in m.group(5, 6, 7))
            cur = out[m.group(3)] = dict(label=m.group(4), vad=(v, a, d), votes={}, line=n)
        elif line.startswith("C-"):
            m = CAT.fullmatch(line.rstrip())
            if not m or cur is None:
                raise CorpusError(path, "malformed categorical evaluation line", n)
            if m.group(1) != "E" and not self_evaluations:
                continue
            codes = []
            for w in (w.strip() for w in m.group(3).split(";")):
                if not w:
                    continue
                if w.split(":")[0] not in WORDS:
                    raise CorpusError(path, f"unknown IEMOCAP category '{w}'", n)
                codes.append(WORDS[w.split(":")[0]])
            if not codes:
                raise CorpusError(path, "categorical evaluation without a category", n)
            worker = f"C-{m.group(1)}{m.group(2)}"
            cur["votes"][worker] = {"worker": worker, "primary": codes[0], "secondary": codes}
        elif line.startswith("A-"):
            if not DIM.fullmatch(line.rstrip()):
                raise CorpusError(path, "malformed dimensional evaluation line", n)
    return out


def _sessions(root: Path) -> list:
    for base in [root] + sorted(p for p in root.iterdir() if p.is_dir()):
        found = sorted(p for p in base.glob("Session[1-5]") if p.is_dir())
        if found:
            return found
    raise CorpusError(root, "no Session1-5 folders here or one level below (is this IEMOCAP_full_release?)")


def prepare(root: Path, self_evaluations: bool = False):
    for sess in _sessions(root):
        for ev in sorted((sess / "dialog" / "EmoEvaluation").glob("*.txt")):
            evals = _evaluations(ev, self_evaluations)
            tpath = sess / "dialog" / "transcriptions" / ev.name
            texts = {}
            if tpath.exists():
                for line in tpath.read_text(encoding="utf-8", errors="replace").splitlines():
                    m = TRANS.fullmatch(line.strip())
                    if m:
                        texts[m.group(1)] = m.group(2)
            for utt, e in evals.items():
                wav = audio_file(sess / "sentences" / "wav" / ev.stem / f"{utt}.wav")
                where = f"{ev}:{e['line']}"
                gender = utt.split("_")[-1][0]
                if gender not in "FM":
                    raise CorpusError(ev, f"turn name {utt} has no F/M speaker letter", e["line"])
                v, a, d = e["vad"]
                yield Row(id=f"iemocap_{utt}", path=wav, speaker=f"iemocap_{utt[:5]}_{gender}",
                          gender=gender, native=e["label"], source=where, split=SPLIT.get(sess.name),
                          transcript=texts.get(utt), votes=list(e["votes"].values()) or None,
                          avd=[a, v, d])
