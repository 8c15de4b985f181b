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
An evaluator may tick several categories on one line (``C-E2:<TAB>Neutral; Anger;``):
the evaluation protocol let evaluators choose more than one category and records
them without a ranking (Busso et al., 2008, "IEMOCAP: interactive emotional dyadic
motion capture database", Lang. Resources & Evaluation 42(4), §3.3; the written
order is the form's order, not a preference). So no category of the line is the
evaluator's primary vote: the evaluator's one vote is *split equally* over the
categories of the line (``primary`` is then the list, read by ``labels.votes.shares``:
``Neutral; Anger;`` gives neutral 1/2, anger 1/2 of that evaluator's weight), and
every category on the line is one of its *secondary* votes. The rule is ours
(the least-informative reading of an unranked multiple choice); the summary label
of the release (its majority) is kept as the native label.

Split: the common leave-sessions-out protocol, Session5 test, Session4 dev; reader
option ``test_session=N`` makes session N the test session (and the one before it
dev) for leave-one-session-out runs. Scoring: besides the unified-space rows, stage 4
scores IEMOCAP under the standard 4-class protocol (``SCORING_PROTOCOLS``: neutral,
happiness + excitement, sadness, anger) so numbers compare with published ones.
The ``SessionN`` folders are found directly below the corpus folder or one level
deeper (an archive unpacked into ``IEMOCAP_full_release/IEMOCAP_full_release/``).
A turn whose wav is missing is listed in ``rejected_iemocap.tsv``; a malformed
evaluation line is an error naming file and line.
"""
from __future__ import annotations

import re
from pathlib import Path

from .base import CorpusError, Row, audio_file

AVD_SCALE = (1.0, 5.0)  # arousal/valence/dominance rated on 5-point scales (release documentation)
NAME, LANGUAGE, DIRNAME = "iemocap", "en", "IEMOCAP_full_release"
LABELS = {"neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx"}
WORDS = {"Neutral": "neu", "Happiness": "hap", "Excited": "exc", "Sadness": "sad",
         "Anger": "ang", "Frustration": "fru", "Surprise": "sur", "Fear": "fea",
         "Disgust": "dis", "Other": "oth"}
# The usual 4-class protocol (Busso et al. 2008 and most IEMOCAP work since): neutral, happiness
# merged with excitement, sadness, anger; the other labels are not scored under it.
FOUR_CLASS = {"neu": "neutral", "hap": "happiness", "exc": "happiness", "sad": "sadness", "ang": "anger"}
SCORING_PROTOCOLS = {"iemocap_4class": FOUR_CLASS}
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
            codes = list(dict.fromkeys(codes))  # a category ticked twice is one choice
            if not codes:
                raise CorpusError(path, "categorical evaluation without a category", n)
            worker = f"C-{m.group(1)}{m.group(2)}"
            cur["votes"][worker] = {"worker": worker, "primary": codes[0] if len(codes) == 1 else codes,
                                    "secondary": codes}
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


def session_splits(test_session: int = 5) -> dict:
    """Session -> split with ``test_session`` as the test session and the one before it
    (cyclically: 1 -> 5) as dev; the default 5/4 is the common leave-sessions-out protocol.
    Leave-one-session-out (LOSO) runs the five choices (``recipes/Multilingual16/iemocap_loso.sh``)."""
    if test_session not in (1, 2, 3, 4, 5):
        raise CorpusError("--reader-option iemocap.test_session", f"must be 1-5, got {test_session!r}")
    dev = (test_session - 2) % 5 + 1
    return {f"Session{k}": "test" if k == test_session else "dev" if k == dev else "train" for k in range(1, 6)}


def prepare(root: Path, self_evaluations: bool = False, test_session: int = 5):
    split_of = session_splits(test_session)
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
                          gender=gender, native=e["label"], source=where, split=split_of.get(sess.name),
                          transcript=texts.get(utt), votes=list(e["votes"].values()) or None,
                          avd=[a, v, d])
