"""Emotion-shift files: labelled utterances concatenated in a known order, with reference segments.

    make_shift_set(entries, data_root, out_dir, per_corpus=2, seed=0)

From a stage-2 label file's utterances with a hard label (any corpus: the
embedded synthetic ones or a real copy), each file takes one speaker of one
corpus and ``n_emotions`` different emotions in a random order (consecutive
emotions always differ); each emotion's stretch is that speaker's utterances of
that emotion played one after another (shuffled, repeated if the speaker has
too few) and cut at a random length of ``seconds`` (4-6 s). Audio is read as
training reads it (mono, 16 kHz) and written as 16-bit WAV. Utterances whose
speaker is unknown (``speaker`` None: MSP-Podcast's ``Unknown``) are left out:
unknown speakers are never taken for one speaker (stage 2's rule), so a file never
splices several voices under one name. A speaker with fewer than ``n_emotions``
emotions is skipped; when no speaker of a corpus has enough, the corpus's known
speakers are pooled (``speaker`` = ``"(pooled)"``: a boundary may then coincide
with a change of voice, and the file says so).

Stage-4 evaluation code: it is not part of the embedded-data generator (``synth``),
whose code hash decides when the data is made again.

Returns (and writes as ``out_dir/reference.json``, atomically, after the audio)
the manifest ``{id: {wav, set, corpus, language, speaker, seconds, segments:
[{start, end, emotion}], sources: [utterance ids]}}``. Same entries and seed →
same files.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from .stage import atomic_writer, write_json_atomic

SAMPLE_RATE = 16000


def _groups(entries: dict) -> dict:
    """corpus -> speaker -> emotion -> [utterance ids] (hard-labelled utterances of known speakers)."""
    g: dict = {}
    for uid, e in entries.items():
        if e.get("hard") and e.get("speaker") is not None:
            g.setdefault(e["corpus"], {}).setdefault(e["speaker"], {}).setdefault(e["hard"], []).append(uid)
    return g


def plan(entries: dict, per_corpus: int = 2, n_emotions: int = 3, seconds=(4.0, 6.0), seed: int = 0,
         name: str = "shift") -> list:
    """[(file id, corpus, speaker, [(emotion, seconds, [utterance ids in play order])])]."""
    out = []
    for corpus, speakers in sorted(_groups(entries).items()):
        rng = np.random.default_rng([seed, zlib.crc32(f"{name}/{corpus}".encode())])
        usable = sorted(s for s, emos in speakers.items() if len(emos) >= n_emotions)
        pooled = {}
        if not usable:
            for emos in speakers.values():
                for emo, uids in emos.items():
                    pooled.setdefault(emo, []).extend(uids)
            if len(pooled) < n_emotions:
                continue
        for k in range(per_corpus):
            if usable:
                speaker = usable[k % len(usable)]
                emos = speakers[speaker]
            else:
                speaker, emos = "(pooled)", pooled
            order = [str(x) for x in rng.choice(sorted(emos), size=n_emotions, replace=False)]
            parts = []
            for emo in order:
                uids = sorted(emos[emo])
                play = [uids[i] for i in rng.permutation(len(uids))]
                parts.append((emo, round(float(rng.uniform(*seconds)), 2), play))
            out.append((f"{name}_{corpus}_{k:02d}", corpus, speaker, parts))
    return out


def make_shift_set(entries: dict, data_root, out_dir, per_corpus: int = 2, n_emotions: int = 3,
                   seconds=(4.0, 6.0), seed: int = 0, name: str = "shift") -> dict:
    """Write the files of ``plan`` and their manifest (see the module docstring)."""
    from .audio import read_audio

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cache: dict = {}

    def audio(uid):
        if uid not in cache:
            cache[uid] = read_audio(entries[uid]["wav"].replace("{data_root}", str(data_root)), SAMPLE_RATE).numpy()
        return cache[uid]

    manifest = {}
    for fid, corpus, speaker, parts in plan(entries, per_corpus, n_emotions, seconds, seed, name):
        pieces, segments, sources, t = [], [], [], 0.0
        for emo, secs, play in parts:
            need, got, k = round(secs * SAMPLE_RATE), 0, 0
            while got < need:
                uid = play[k % len(play)]
                x = audio(uid)[: need - got]
                pieces.append(x)
                sources.append(uid)
                got += len(x)
                k += 1
            segments.append(dict(start=round(t, 3), end=round(t + need / SAMPLE_RATE, 3), emotion=emo))
            t += need / SAMPLE_RATE
        wav = out_dir / f"{fid}.wav"
        with atomic_writer(wav, binary=True) as f:
            sf.write(f, np.concatenate(pieces), SAMPLE_RATE, subtype="PCM_16", format="WAV")
        first = entries[parts[0][2][0]]
        manifest[fid] = dict(wav=str(wav), set=name, corpus=corpus, language=first.get("language"),
                             speaker=speaker, seconds=round(t, 3), segments=segments, sources=sources)
    write_json_atomic(out_dir / "reference.json", manifest)
    return manifest

