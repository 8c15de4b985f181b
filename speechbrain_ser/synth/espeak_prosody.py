"""Emotion prosody prototypes rendered with espeak-ng, plus post-processing.

Each prototype moves the same handful of parameters away from neutral. The
directions follow the rule tables used for emotional speech synthesis:

* Murray & Arnott (1993), "Toward the simulation of emotion in synthetic
  speech", JASA 93(2): anger faster, much higher mean pitch, much wider range,
  louder, tense/"blaring" quality; happiness higher and wider pitch, slightly
  faster, brighter; sadness slower, lower, narrower, softer, darker (resonant);
  fear much faster, very much higher pitch, irregular voicing (here: tremolo);
  disgust very much slower, much lower pitch, "grumbled" dark quality.
* Burkhardt & Sendlmeier (2000), "Verification of acoustical correlates of
  emotional speech using formant synthesis" (ISCA ITRW): boredom/contempt as
  low pitch, narrow range, slow rate.
* Schröder (2001), "Emotional speech synthesis: a review" (Eurospeech):
  surprise as strongly raised pitch and widened range.

A blend of prototypes interpolates every parameter linearly by its weights,
so a 70/30 anger/sadness utterance sounds in between, as designed.

Parameters: ``pitch`` and ``range`` (% change, espeak-ng SSML), ``rate``
(% of normal), ``gain_db``, and post-processing strengths in [0, 1]:
``tremolo`` (7 Hz amplitude modulation with jitter), ``dark`` (low-pass),
``drive`` (tanh saturation: tense voice), ``bright`` (high-frequency tilt up).
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, lfilter, resample_poly

SAMPLE_RATE = 16000

# name: pitch %, range %, rate %, gain dB, tremolo, dark, drive, bright;
# avd: (arousal, valence, dominance) on the 1-7 scale the annotators rate.
PROTOTYPES = {
    "neutral":   dict(pitch=0,   range=0,   rate=100, gain_db=0,  tremolo=0, dark=0,   drive=0,   bright=0,   avd=(4, 4, 4)),
    "happiness": dict(pitch=30,  range=70,  rate=112, gain_db=3,  tremolo=0, dark=0,   drive=0,   bright=0.7, avd=(5.5, 6.3, 5)),
    "sadness":   dict(pitch=-20, range=-60, rate=72,  gain_db=-7, tremolo=0, dark=0.9, drive=0,   bright=0,   avd=(2, 2, 2.5)),
    "anger":     dict(pitch=15,  range=90,  rate=118, gain_db=6,  tremolo=0, dark=0,   drive=0.9, bright=0.9, avd=(6.3, 1.8, 6.2)),
    "fear":      dict(pitch=55,  range=30,  rate=140, gain_db=-1, tremolo=1, dark=0,   drive=0,   bright=0.2, avd=(6, 2, 2)),
    "disgust":   dict(pitch=-30, range=25,  rate=68,  gain_db=-2, tremolo=0, dark=0.6, drive=0.4, bright=0,   avd=(4, 1.8, 5)),
    "surprise":  dict(pitch=70,  range=130, rate=105, gain_db=3,  tremolo=0, dark=0,   drive=0,   bright=0.4, avd=(6, 5, 4)),
    "contempt":  dict(pitch=-15, range=-30, rate=85,  gain_db=-3, tremolo=0, dark=0.3, drive=0.2, bright=0,   avd=(3.5, 2.5, 5.5)),
}
PARAMS = ("pitch", "range", "rate", "gain_db", "tremolo", "dark", "drive", "bright")

# Native labels that are not a single prototype: the blend the generator uses.
CONCEPTS = {
    "calm": {"neutral": 0.75, "sadness": 0.25},
    "boredom": {"neutral": 0.5, "sadness": 0.5},
    "pleasant_surprise": {"surprise": 0.6, "happiness": 0.4},
    "excitement": {"happiness": 0.75, "surprise": 0.25},
    "frustration": {"anger": 0.55, "sadness": 0.45},
}


def concept_blend(concept: str) -> dict:
    """Prototype weights of an emotion concept (a prototype or a compound)."""
    if concept in PROTOTYPES:
        return {concept: 1.0}
    if concept in CONCEPTS:
        return dict(CONCEPTS[concept])
    raise KeyError(f"unknown emotion concept '{concept}'")


def mix(blends: list[tuple[dict, float]]) -> dict:
    """Weighted sum of blends → one normalised blend over prototypes."""
    out: dict = {}
    for blend, w in blends:
        for k, v in blend.items():
            out[k] = out.get(k, 0.0) + w * v
    total = sum(out.values())
    return {k: v / total for k, v in sorted(out.items()) if v > 0}


def blend_params(blend: dict) -> dict:
    return {p: sum(w * PROTOTYPES[k][p] for k, w in blend.items()) for p in PARAMS}


def blend_avd(blend: dict) -> np.ndarray:
    return sum(w * np.array(PROTOTYPES[k]["avd"], float) for k, w in blend.items())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def espeak(text: str, voice: str, params: dict, base_pitch: int = 50) -> np.ndarray:
    """Speak ``text`` with espeak-ng under the blended prosody; float32 at 16 kHz."""
    ssml = (f'<speak><prosody pitch="{params["pitch"]:+.0f}%" range="{params["range"]:+.0f}%" '
            f'rate="{params["rate"]:.0f}%">{_escape(text)}</prosody></speak>')
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        cmd = ["espeak-ng", "-m", "-z", "-v", voice, "-p", str(int(base_pitch)), "-w", tmp.name, ssml]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"espeak-ng failed for voice {voice}: {proc.stderr.strip()}")
        audio, sr = sf.read(tmp.name, dtype="float32")
    if sr != 22050:
        raise RuntimeError(f"espeak-ng wrote {sr} Hz, expected 22050")
    return resample_poly(audio, 320, 441).astype(np.float32)


def post_process(x: np.ndarray, params: dict, rng: np.random.Generator) -> np.ndarray:
    """Voice-quality post-processing scaled by the blended strengths."""
    sr = SAMPLE_RATE
    t = np.arange(len(x)) / sr
    if params["tremolo"] > 0:
        rate = 7.0 + rng.uniform(-1, 1)
        jitter = np.cumsum(rng.normal(0, 0.02, len(x)))
        x = x * (1 - 0.45 * params["tremolo"] * (0.5 + 0.5 * np.sin(2 * np.pi * rate * t + jitter)))
    if params["dark"] > 0:
        cutoff = 7000 - 5200 * params["dark"]
        b, a = butter(4, cutoff / (sr / 2), "low")
        x = lfilter(b, a, x)
    if params["bright"] > 0:
        b, a = butter(2, 2500 / (sr / 2), "high")
        x = x + 1.2 * params["bright"] * lfilter(b, a, x)
    if params["drive"] > 0:
        g = 1 + 6 * params["drive"]
        x = np.tanh(g * x / (np.abs(x).max() + 1e-9)) / np.tanh(g)
    return np.asarray(x, dtype=np.float32)


def render(text: str, voice: str, blend: dict, rng: np.random.Generator,
           base_pitch: int = 50, speaker_gain_db: float = 0.0) -> np.ndarray:
    """Speech for ``text`` with the prosody of ``blend``, normalised and gained."""
    params = blend_params(blend)
    x = espeak(text, voice, params, base_pitch)
    x = post_process(x, params, rng)
    x = x / (np.abs(x).max() + 1e-9) * 0.3
    x = x * 10 ** ((params["gain_db"] + speaker_gain_db) / 20)
    return np.clip(x, -0.99, 0.99).astype(np.float32)


class Channel:
    """A corpus's recording channel: a fixed spectral tilt and a noise floor."""

    def __init__(self, seed: int, noise_db: float, tilt: float):
        self.seed, self.noise_db, self.tilt = seed, noise_db, tilt

    def apply(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.tilt:
            b, a = butter(1, 1000 / (SAMPLE_RATE / 2), "high" if self.tilt > 0 else "low")
            x = x + abs(self.tilt) * lfilter(b, a, x)
        pad = np.zeros(int(0.15 * SAMPLE_RATE), np.float32)
        x = np.concatenate([pad, x, pad])
        x = x + rng.normal(0, 10 ** (self.noise_db / 20), len(x))
        return np.clip(x, -0.99, 0.99).astype(np.float32)


def write_wav(path: Path, x: np.ndarray):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, SAMPLE_RATE, subtype="PCM_16")
