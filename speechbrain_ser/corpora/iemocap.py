"""IEMOCAP (Busso et al., 2008): 5 dyadic sessions, 10 actors, per-evaluator labels.

Release read: ``IEMOCAP_full_release`` (USC SAIL). Files read, per session:

* ``SessionN/sentences/wav/<dialog>/<utt>.wav`` (``Ses01F_impro01_F000``: the
  letter before the turn number is the speaker's gender);
* ``SessionN/dialog/EmoEvaluation/<dialog>.txt``: a summary line per turn
  ``[start - end]<TAB>utt<TAB>label<TAB>[V, A, D]`` (label neu, hap, exc, sad, ang,
  fru, sur, fea, dis, oth or xxx = no majority; V/A/D on 1-5), followed by one
  line per categorical evaluator (``C-E2:<TAB>Frustration; Anger;<TAB>(...)``)
  and per dimensional evaluator (``A-E3:<TAB>val 3; act 2; dom  2;<TAB>()``);
* ``SessionN/dialog/transcriptions/<dialog>.txt``: ``utt [start-end]: text``.

Split: the common leave-sessions-out protocol, Session5 test, Session4 dev.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .base import CorpusError, Row, Speaker, Utt, check_label
from ..labels.votes import majority
from ..synth.annotators import make_pool, vote
from ..synth.prosody import blend_avd, concept_blend, mix

NAME, LANGUAGE, DIRNAME = "iemocap", "en", "IEMOCAP_full_release"
LABELS = {"neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis", "oth", "xxx"}
WORDS = {"Neutral": "neu", "Happiness": "hap", "Excited": "exc", "Sadness": "sad",
         "Anger": "ang", "Frustration": "fru", "Surprise": "sur", "Fear": "fea",
         "Disgust": "dis", "Other": "oth"}
SPLIT = {"Session1": "train", "Session2": "train", "Session3": "train", "Session4": "dev",
         "Session5": "test"}
SUMMARY = re.compile(r"\[(\d+\.\d+) - (\d+\.\d+)\]\t(\S+)\t(\S+)\t\[(\S+), (\S+), (\S+)\]")
CAT = re.compile(r"(C-[EFM]\d+):\t(.*?)\t\((.*)\)")
DIM = re.compile(r"(A-[EFM]\d+):\tval (\d+); act (\d+); dom\s+(\d+);\t\((.*)\)")
TRANS = re.compile(r"(\S+) \[[\d.]+-[\d.]+\]: (.*)")


def _evaluations(path: Path):
    """utt -> dict(label, vad, votes, line) from one EmoEvaluation file."""
    out, cur = {}, None
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("%"):
            continue
        if line.startswith("["):
            m = SUMMARY.fullmatch(line.strip())
            if not m:
                raise CorpusError(path, "malformed turn summary line", n)
            v, a, d = (float(x) for x in m.group(5, 6, 7))
            cur = out[m.group(3)] = dict(label=m.group(4), vad=(v, a, d), votes={}, line=n)
        elif line.startswith("C-"):
            m = CAT.fullmatch(line.rstrip())
            if not m or cur is None:
                raise CorpusError(path, "malformed categorical evaluation line", n)
            words = [w.strip() for w in m.group(2).split(";") if w.strip()]
            codes = []
            for w in words:
                if w.split(":")[0] not in WORDS:
                    raise CorpusError(path, f"unknown IEMOCAP category '{w}'", n)
                codes.append(WORDS[w.split(":")[0]])
            cur["votes"][m.group(1)] = {"worker": m.group(1), "primary": codes[0], "secondary": codes}
        elif line.startswith("A-"):
            if not DIM.fullmatch(line.rstrip()):
                raise CorpusError(path, "malformed dimensional evaluation line", n)
    return out


def prepare(root: Path):
    sessions = sorted(p for p in root.glob("Session*") if p.is_dir())
    if not sessions:
        raise CorpusError(root, "no SessionN folders (is this IEMOCAP_full_release?)")
    for sess in sessions:
        for ev in sorted((sess / "dialog" / "EmoEvaluation").glob("*.txt")):
            evals = _evaluations(ev)
            tpath = sess / "dialog" / "transcriptions" / ev.name
            texts = {}
            if tpath.exists():
                for line in tpath.read_text(encoding="utf-8").splitlines():
                    m = TRANS.fullmatch(line.strip())
                    if m:
                        texts[m.group(1)] = m.group(2)
            for utt, e in evals.items():
                wav = sess / "sentences" / "wav" / ev.stem / f"{utt}.wav"
                where = f"{ev}:{e['line']}"
                gender = utt.split("_")[-1][0]
                if gender not in "FM":
                    raise CorpusError(ev, f"turn name {utt} has no F/M speaker letter", e["line"])
                v, a, d = e["vad"]
                yield Row(id=f"iemocap_{utt}", path=wav, speaker=f"iemocap_{utt[:5]}_{gender}",
                          gender=gender, native=check_label(e["label"], LABELS, where, "IEMOCAP"),
                          source=where, split=SPLIT.get(sess.name), transcript=texts.get(utt),
                          votes=list(e["votes"].values()) or None, avd=[a, v, d])


# ---- synthetic layout -------------------------------------------------------
CATEGORIES = ["neu", "hap", "exc", "sad", "ang", "fru", "sur", "fea", "dis"]
CONCEPTS = {"neu": "neutral", "hap": "happiness", "exc": "excitement", "sad": "sadness",
            "ang": "anger", "fru": "frustration", "sur": "surprise", "fea": "fear", "dis": "disgust"}
PRIOR = np.array([0.26, 0.10, 0.14, 0.14, 0.12, 0.16, 0.03, 0.02, 0.03])
SENTENCES = ["Excuse me.", "Do you have your forms?", "I can't believe this is happening.",
             "Well, what am I supposed to do?", "That's great news, really!", "I'm not going anywhere.",
             "Why did you do that?", "Let's just go home."]
VOICE = "en-us"


def plan(size: str, rng: np.random.Generator):
    n_sessions, per_dialog = {"tiny": (2, 4), "mini": (5, 10)}[size]
    sessions = [1, 5, 2, 3, 4][:n_sessions]
    pool = make_pool(6, rng, prefix="E", width=1)
    utts, k = [], 0
    for s in sorted(sessions):
        for lead in "FM":
            for dialog in ("impro01", "script01"):
                name = f"Ses{s:02d}{lead}_{dialog}"
                for t in range(per_dialog):
                    g = "FM"[(t + (lead == "M")) % 2]
                    c1 = CATEGORIES[rng.choice(len(CATEGORIES), p=PRIOR)]
                    c2 = CATEGORIES[rng.choice(len(CATEGORIES), p=PRIOR)]
                    w = float(rng.uniform(0.55, 1.0))
                    weights = {c1: 1.0} if c1 == c2 else {c1: w, c2: 1 - w}
                    blend = mix([(concept_blend(CONCEPTS[c]), x) for c, x in weights.items()])
                    avd = blend_avd(blend)
                    raters = rng.choice(len(pool), 3, replace=False)
                    votes = [vote(pool[i], weights, CATEGORIES, "neu", avd, rng) for i in raters]
                    k += 1
                    utts.append(Utt(speaker=Speaker(f"Ses{s:02d}{g}", g), native="", index=k,
                                    sentence=(str(t), SENTENCES[int(rng.integers(len(SENTENCES)))]),
                                    blend=blend, extra=dict(dialog=name, session=s, turn=f"{g}{t:03d}",
                                                            weights=weights, votes=votes,
                                                            workers=[pool[i].worker for i in raters])))
    for u in utts:
        m = majority([v["primary"] for v in u.extra["votes"]])
        u.native = "xxx" if m == "X" else m
    return utts


def voice_for(u):
    return VOICE


def text_for(u):
    return u.sentence[1]


def wav_path(u):
    e = u.extra
    return f"Session{e['session']}/sentences/wav/{e['dialog']}/{e['dialog']}_{e['turn']}.wav"


def _to5(x):
    return 1 + (x - 1) * 4 / 6


def write_meta(root: Path, utts):
    names = {v: k for k, v in WORDS.items()}
    by_dialog = {}
    for u in utts:
        by_dialog.setdefault((u.extra["session"], u.extra["dialog"]), []).append(u)
    for (s, dialog), us in sorted(by_dialog.items()):
        ev, tr, t0 = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""], [], 1.0
        for u in us:
            dur = u.extra.get("duration", 2.0)
            utt = f"{dialog}_{u.extra['turn']}"
            a, v, d = np.mean([x["avd"] for x in u.extra["votes"]], axis=0)
            ev.append(f"[{t0:.4f} - {t0 + dur:.4f}]\t{utt}\t{u.native}\t"
                      f"[{_to5(v):.4f}, {_to5(a):.4f}, {_to5(d):.4f}]")
            for w, x in zip(u.extra["workers"], u.extra["votes"]):
                words = "; ".join(names[c] if c in names else "Other" for c in
                                  [x["primary"]] + [c for c in x["secondary"] if c != x["primary"]])
                ev.append(f"C-{w}:\t{words};\t()")
            for w, x in zip(u.extra["workers"][:2], u.extra["votes"][:2]):
                a, v, d = (round(_to5(y)) for y in x["avd"])
                ev.append(f"A-{w}:\tval {v}; act {a}; dom  {d};\t()")
            ev.append("")
            tr.append(f"{utt} [{t0:08.4f}-{t0 + dur:08.4f}]: {u.sentence[1]}")
            t0 += dur + 0.5
        d = root / f"Session{s}" / "dialog"
        (d / "EmoEvaluation").mkdir(parents=True, exist_ok=True)
        (d / "transcriptions").mkdir(parents=True, exist_ok=True)
        (d / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(ev) + "\n", encoding="utf-8")
        (d / "transcriptions" / f"{dialog}.txt").write_text("\n".join(tr) + "\n", encoding="utf-8")
