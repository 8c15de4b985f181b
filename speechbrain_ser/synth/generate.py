"""Generate the embedded default data: every registered corpus in its real layout.

    python -m speechbrain_ser.synth --out DATA_ROOT --size tiny|mini [--seed 0] [--corpora a,b] [--voices espeak]

Audio (``voices``): ``espeak`` (the default) makes every corpus with espeak-ng prosody prototypes
(``espeak_prosody.py``). ``real`` renders each utterance's emotion on a real human voice
from the Debian packages of ``voices.py`` (``emotion_rendering.py``: PSOLA prosody, voice quality, spectral
tilt) in every corpus whose language one of those voices speaks or that is an English, French,
Spanish or Italian corpus (``REAL_LANGUAGES``); the other corpora (Mandarin, Persian, and the
zero-shot German, Greek, Urdu and Bengali) are espeak-ng. The Multilingual16 recipe's default
(``./run.sh``): trained on it, the default model does better on real URDU and on real arousal than
one trained on espeak-ng (README, "What the default model is"). Each emotional utterance goes only
part of the way toward its rendering (``REAL_STRENGTH``).
``neutral`` uses the real voices, unrendered, for the
neutral utterances only and espeak-ng for every emotional one (an ablation: does the rendering
or only the real voices help?).

Writes ``DATA_ROOT/<DIRNAME>/...`` for each corpus (the layout its module
reads), the generating truth in ``DATA_ROOT/.synth_truth/<corpus>.jsonl`` (blend
weights, intensity: never read by the recipes) and ``DATA_ROOT/.synth.json``
(size, seed, version and the corpora made so far: the completion marker). Each
corpus is written into a temporary folder and moved into place before the
marker lists it, so a crash never leaves a half-made corpus that counts as
made. Each corpus depends only on its name, size and seed: same seed and size →
identical bytes, whichever other corpora share the root.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .. import corpora
from ..stage import write_json_atomic
from . import emotion_rendering, layouts, voices as real_voices
from .layouts import Utt
from .espeak_prosody import Channel, concept_blend, mix, render, write_wav

log = logging.getLogger(__name__)
VERSION = 3
VOICES = ("real", "espeak", "neutral")
REAL_LANGUAGES = {"en", "fr", "es", "it"}
# Real voices: the share of its emotion's rendering each utterance gets (drawn per utterance; the rest
# is neutral, on top of the corpus's intensity). Real actors depart from their neutral far less than
# the rule tables' full settings: with (0.35, 1.0) instead of the full rendering, the default model
# went from URDU 0.458 / RAVDESS 0.224 to 0.523 / 0.194 (seed 0) and 0.377 / 0.208 -> 0.468 / 0.261
# (seed 1); (0.15, 1.0): 0.475 / 0.209 (seed 0). Chosen on real speech (docs/embedded_data.md).
REAL_STRENGTH = (0.35, 1.0)
MAX_SOURCE_SECONDS = 4.0  # source clips longer than this are drawn again (then cut): acted corpora's length
RESERVED_CLIPS = 20  # each voice's last clips: never in the data (benchmarks/judge_rendering.py renders them)
SIZES = {"tiny": dict(speakers=2, per_corpus=14), "mini": dict(speakers=6, per_corpus=84)}


def _rng(seed: int, *keys) -> np.random.Generator:
    return np.random.default_rng([seed] + [zlib.crc32(str(k).encode()) for k in keys])


def _interleave(speakers):
    f = [s for s in speakers if s.gender != "M"]
    m = [s for s in speakers if s.gender == "M"]
    out = []
    for i in range(max(len(f), len(m))):
        out += [x[i] for x in (f, m) if i < len(x)]
    return out


def generic_plan(mod, size: str, rng: np.random.Generator) -> list:
    """Speakers × native labels × sentences, intensity by the module's rule."""
    spec, cfg = mod.SYNTH, SIZES[size]
    speakers = _interleave(spec.speakers)[: cfg["speakers"]]
    n_emo = len(spec.emotions)
    n_sent = int(np.clip(round(cfg["per_corpus"] / (len(speakers) * n_emo)), 1, len(spec.sentences)))
    utts, k = [], 0
    for si, spk in enumerate(speakers):
        for native, concept in spec.emotions.items():
            for j in range(n_sent):
                sent = spec.sentences[(si + j) % len(spec.sentences)]
                k += 1
                if hasattr(mod, "choose_intensity"):
                    level = mod.choose_intensity(native, sent[0], k)
                elif spec.intensities:
                    level = sorted(spec.intensities)[k % len(spec.intensities)]
                else:
                    level = None
                strength = spec.intensities[level] if level else float(rng.uniform(0.75, 1.0))
                blend = concept_blend(concept)
                if strength < 1.0 and concept != "neutral":
                    blend = mix([(blend, strength), ({"neutral": 1.0}, 1.0 - strength)])
                u = Utt(speaker=spk, native=native, sentence=sent, intensity=level, blend=blend,
                        index=k, extra={"strength": strength})
                if hasattr(mod, "choose_split"):
                    u.extra["split"] = mod.choose_split(k)
                utts.append(u)
    return utts


def _speaker_voice(spk, idx: int):
    if spk.gender == "M":
        return f"+m{1 + idx % 7}", 30 + (idx * 7) % 20
    if spk.gender == "F":
        return f"+f{1 + idx % 5}", 55 + (idx * 7) % 20
    return "+f4", 80  # child / unknown


def _language(espeak_voice: str) -> str:
    return {"cmn": "zh"}.get(espeak_voice.split("-")[0], espeak_voice.split("-")[0])


def real_params(blend: dict, rng: np.random.Generator, nuisance: bool = True) -> dict:
    """A real-voice utterance's rendering parameters: its blend taken a share drawn from
    ``REAL_STRENGTH`` of the way, the rest neutral (plus the label-free variation)."""
    s = float(rng.uniform(*REAL_STRENGTH))
    return emotion_rendering.sample_params(mix([(blend, s), ({"neutral": 1.0}, 1.0 - s)]), rng, nuisance=nuisance)


def assign_voices(speakers: list, language: str, pool: dict) -> dict:
    """{speaker id: (Voice, formant ratio, F0 offset in semitones)}: voices speaking ``language``
    first, then the acted fillets voices, of the speaker's gender (children and unknown: women's
    voices, children an octave-fifth higher with shorter vocal tracts); once every voice of a
    gender is taken, voices are reused with another formant ratio and pitch (another speaker
    made from the same person, as Praat's "Change gender" does)."""
    order = sorted(pool.values(), key=lambda v: (v.language != language, not v.name.startswith("fish"), v.name))
    used: dict = {}
    out = {}
    for spk in speakers:
        g = "M" if spk.gender == "M" else "F"
        cands = [v for v in order if v.gender == g and (v.language == language or v.name.startswith("fish"))]
        if not cands:
            raise RuntimeError(
                f"no real {'male' if g == 'M' else 'female'} voice for speaker {spk.id} ({language}): the installed "
                f"voices are {', '.join(sorted(pool)) or 'none'}; the acted voices of both genders come from the "
                "Debian packages fillets-ng-data-cs and fillets-ng-data-nl (" + ", ".join(real_voices.PACKAGES)
                + " in all): install them (tools/setup.sh --embedded-data), or generate with voices='espeak'")
        k = sum(used.get(v.name, 0) for v in cands)
        v = cands[k % len(cands)]
        reuse = used.get(v.name, 0)
        used[v.name] = reuse + 1
        formant = [1.0, 1.07, 0.94, 1.12, 0.9][reuse % 5]
        shift = [0.0, 1.5, -1.5, 2.5, -2.5][reuse % 5]
        if spk.gender == "C":
            formant, shift = formant * 1.18, shift + 7.0
        out[spk.id] = (v, formant, shift)
    return out


def generate_corpus(name: str, root: Path, size: str, seed: int, voices: str = real_voices.DEFAULT_VOICES) -> list:
    mod = layouts.get(name)
    rng = _rng(seed, name, "plan")
    utts = mod.plan(size, rng) if hasattr(mod, "plan") else generic_plan(mod, size, rng)
    ch_rng = _rng(seed, name, "channel")
    channel = Channel(seed, noise_db=float(ch_rng.uniform(-62, -45)), tilt=float(ch_rng.uniform(-0.6, 0.6)))
    speakers = sorted({u.speaker.id for u in utts})
    espeak_voice = {u.index: (mod.voice_for(u) if hasattr(mod, "voice_for") else mod.SYNTH.voice) for u in utts}
    real = {}
    if voices != "espeak":
        pool = real_voices.find_voices()
        if not pool:
            raise RuntimeError("no real voices installed (Debian packages " + ", ".join(real_voices.PACKAGES)
                               + "): run tools/setup.sh --embedded-data, or generate with voices='espeak' (the default)")
        by_language: dict = {}
        for u in utts:
            lang = _language(espeak_voice[u.index])
            if lang in REAL_LANGUAGES:
                by_language.setdefault(lang, {})[u.speaker.id] = u.speaker
        for lang, spk in sorted(by_language.items()):
            real.update(assign_voices([spk[k] for k in sorted(spk)], lang, pool))

    def one(u: Utt):
        r = _rng(seed, name, u.index, u.speaker.id, u.native, u.sentence[0])
        gain = float(_rng(seed, u.speaker.id).uniform(-3, 3))
        # ``real`` holds only speakers of REAL_LANGUAGES (a speaker speaks one language)
        if u.speaker.id in real and (voices == "real" or set(u.blend) == {"neutral"}):
            v, formant, shift = real[u.speaker.id]
            for _ in range(8):  # a clip of the corpus's usual length (the voices' lines run to 10 s and more)
                clip = v.clips[int(r.integers(0, max(1, len(v.clips) - RESERVED_CLIPS)))]
                source = emotion_rendering.load_clip(clip)
                if len(source) <= MAX_SOURCE_SECONDS * 16000:
                    break
            source = source[: int(MAX_SOURCE_SECONDS * 16000)]
            p = real_params(u.blend, r) if voices == "real" else emotion_rendering.identity_params()
            x = emotion_rendering.render_emotion(source, p, r, level_db=-23.0 + gain,
                                              formant=formant, speaker_st=shift)
            u.extra["source"] = dict(voice=v.name, clip=clip.name, formant=formant, speaker_st=shift,
                                     params={k: round(float(val), 4) for k, val in p.items()})
        else:
            variant, pitch = _speaker_voice(u.speaker, speakers.index(u.speaker.id))
            text = mod.text_for(u) if hasattr(mod, "text_for") else u.sentence[1]
            x = render(text, espeak_voice[u.index] + variant, u.blend, r, base_pitch=pitch, speaker_gain_db=gain)
            u.extra["source"] = dict(voice="espeak-ng:" + espeak_voice[u.index] + variant)
        x = channel.apply(x, r)
        rel = mod.wav_path(u)
        write_wav(root / rel, x)
        u.extra["duration"] = len(x) / 16000
        return rel

    with ThreadPoolExecutor(2) as pool:
        rels = list(pool.map(one, utts))
    if len(set(rels)) != len(rels):
        raise RuntimeError(f"{name}: the synthetic plan produced duplicate file names")
    if hasattr(mod, "write_meta"):  # label/metadata files, where the corpus has any
        mod.write_meta(root, utts)
    return [dict(wav=f"{corpora.get(name).DIRNAME}/{rel}", native=u.native, intensity=u.intensity, blend=u.blend,
                 weights=u.extra.get("weights"), strength=u.extra.get("strength"),
                 speaker=u.speaker.id, votes=u.extra.get("votes"), source=u.extra.get("source"))
            for rel, u in sorted(zip(rels, utts), key=lambda t: t[0])]


def generate(out: Path | str, size: str = "tiny", seed: int = 0, names=None, voices: str = real_voices.DEFAULT_VOICES) -> dict:
    """Make the corpora ``names`` under the data root ``out``; returns {corpus: #utterances}.

    Corpora are added one at a time: recipes that need different corpora share one
    data root (Multilingual16 makes all 16, MSP-Podcast only its own) without
    regenerating each other's. Each corpus is written into a temporary folder,
    moved into place, then entered in ``.synth.json``; a folder the marker does not
    list (a crash) is made again. Another size, seed or generator version empties
    the root first, so the stage driver keys the root by size and seed
    (``data/synth_<size>`` for seed 0, ``data/synth_<size>_seed<N>`` otherwise): a run
    with another seed never rewrites the audio another experiment's manifests point
    to. Concurrent calls on one root are serialised by an OS lock beside it.
    """
    out = Path(out)
    if size not in SIZES:
        raise ValueError(f"unknown size '{size}' (have {sorted(SIZES)})")
    if voices not in VOICES:
        raise ValueError(f"unknown voices '{voices}' (have {', '.join(VOICES)})")
    out.parent.mkdir(parents=True, exist_ok=True)
    # concurrent stage 0s on one data root: one makes the data, the others wait and find it made
    with open(out.parent / f".{out.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _generate(out, size, seed, names, voices)


def generator_files() -> list:
    """The code that makes the embedded data: this package's .py files (the generator, its layouts,
    the rendering and voices; nothing of the stages that read or score the data lives here)."""
    return sorted(Path(__file__).parent.rglob("*.py"))


def code_version() -> str:
    """A hash of the generator's own code (``generator_files``): data made by other code is made
    again, never mixed with the new; editing the stages that read or score the data does not."""
    h = hashlib.sha256()
    for f in generator_files():
        h.update(f.relative_to(Path(__file__).parent).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def _generate(out: Path, size: str, seed: int, names, voices: str) -> dict:
    names = list(names or layouts.NAMES)
    options = dict(version=VERSION, code=code_version(), size=size, seed=seed, voices=voices)
    marker = out / ".synth.json"
    record = json.loads(marker.read_text()) if marker.exists() else None
    if record is not None and record.get("options") != options:
        log.info("data root %s was generated with other options; regenerating", out)
        shutil.rmtree(out)
        record = None
    if record is None:
        if out.exists() and any(out.iterdir()):
            raise RuntimeError(f"{out} exists and was not made by the generator; refusing to overwrite")
        record = dict(options=options, counts={})
        write_json_atomic(marker, record)  # first: a run killed from here on leaves a root the rerun continues
    todo = [n for n in names if n not in record["counts"]]
    if not todo:
        log.info("data root %s already holds %s", out, ", ".join(names))
    (out / ".synth_truth").mkdir(parents=True, exist_ok=True)
    for name in todo:
        mod = corpora.get(name)
        t0 = time.time()
        tmp = out / f".tmp_{name}"
        for stale in (tmp, out / mod.DIRNAME):  # leftovers of a crashed run
            if stale.exists():
                shutil.rmtree(stale)
        truth = generate_corpus(name, tmp / mod.DIRNAME, size, seed, voices)
        with open(tmp / "truth.jsonl", "w") as f:
            for rec in truth:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
        (tmp / mod.DIRNAME).rename(out / mod.DIRNAME)
        (tmp / "truth.jsonl").replace(out / ".synth_truth" / f"{name}.jsonl")
        shutil.rmtree(tmp)
        record["counts"][name] = len(truth)
        record["counts"] = dict(sorted(record["counts"].items()))
        write_json_atomic(marker, record)
        log.info("synth %-12s %4d utterances in %.1fs", name, len(truth), time.time() - t0)
    return {n: record["counts"][n] for n in names}


def record_for(out: Path | str, names) -> dict | None:
    """The generator's options and counts of ``names`` only (for stage 1's options), or
    None when ``out`` was not made by the generator."""
    marker = Path(out) / ".synth.json"
    if not marker.exists():
        return None
    record = json.loads(marker.read_text())
    return dict(options=record["options"], counts={n: record["counts"].get(n) for n in names})
