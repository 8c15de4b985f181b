"""Synthetic iemocap in its release layout, read back by ``corpora/iemocap.py``."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import Speaker, Utt
from ..annotators import make_pool, vote
from ..espeak_prosody import blend_avd, concept_blend, mix
from ...corpora import iemocap as reader
from ...labels.votes import majority

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
    names = {v: k for k, v in reader.WORDS.items()}
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
