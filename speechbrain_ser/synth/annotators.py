"""Simulated annotators voting from an utterance's generating blend.

Each annotator perceives the blend through individual noise: the perceived
distribution is ``q = normalise(blend**(1/temperature) + bias + noise)``.
The primary vote is a draw from ``q``; the secondary list holds every class
with ``q >= threshold`` (primary included), plus "Other" now and then.
Arousal/valence/dominance are the blend's prototype values plus the
annotator's bias and noise, rounded and clipped to the 1-7 scale.

So a 70/30 blend yields primaries near 70/30 on average, and P, S and the
consensus ratings carry the blend's information.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np



@dataclass
class Annotator:
    worker: str
    temperature: float
    neutral_bias: float
    threshold: float
    avd_bias: np.ndarray
    avd_noise: float
    other_rate: float


def make_pool(n: int, rng: np.random.Generator, prefix: str = "WORKER",
              width: int = 5) -> list[Annotator]:
    return [Annotator(worker=f"{prefix}{i + 1:0{width}d}",
                      temperature=float(rng.uniform(0.7, 1.3)),
                      neutral_bias=float(rng.uniform(0.0, 0.08)),
                      threshold=float(rng.uniform(0.15, 0.3)),
                      avd_bias=rng.normal(0, 0.3, 3),
                      avd_noise=float(rng.uniform(0.3, 0.7)),
                      other_rate=float(rng.uniform(0.0, 0.08)))
            for i in range(n)]


def perceive(a: Annotator, weights: dict, classes: list, neutral: str,
             rng: np.random.Generator) -> np.ndarray:
    """Annotator's perceived distribution over ``classes`` given the category weights."""
    base = np.array([weights.get(c, 0.0) for c in classes])
    q = base ** (1.0 / a.temperature)
    q = q + a.neutral_bias * (np.array(classes) == neutral) + rng.gamma(0.3, 0.03, len(classes))
    return q / q.sum()


def vote(a: Annotator, weights: dict, classes: list, neutral: str, avd_mean,
         rng: np.random.Generator) -> dict:
    """One annotator's primary class, secondary list ("other" now and then) and A/V/D.

    ``weights`` is the utterance's generating mixture over ``classes`` and
    ``avd_mean`` its prototype A/V/D (1-7).
    """
    q = perceive(a, weights, classes, neutral, rng)
    primary = classes[int(rng.choice(len(classes), p=q))]
    secondary = sorted({primary} | {c for c, v in zip(classes, q) if v >= a.threshold})
    if rng.random() < a.other_rate:
        secondary.append("other")
    avd = np.asarray(avd_mean, float) + a.avd_bias + rng.normal(0, a.avd_noise, 3)
    avd = np.clip(np.round(avd), 1, 7)
    return {"primary": primary, "secondary": secondary, "avd": [float(v) for v in avd]}
