"""Real human voices from Debian packages: the sources the emotion rendering is applied to.

The set-up installs the packages (tools/setup.sh); nothing is downloaded at run time. Each voice is
one speaker: a name, gender, language and its clips (sorted paths, so the pool is the same on every
machine with the same package versions):

* ``fillets-ng-data-cs`` / ``fillets-ng-data-nl``: the Czech and Dutch dialogue of the game Fish
  Fillets NG (GPL-2), two professional actors per language: the small fish (``-m-``, a woman's
  voice) and the big fish (``-v-``, a man's voice), 22.05 kHz Ogg Vorbis, ~1-8 s lines, acted.
* ``asterisk-core-sounds-{en,fr,es,it}-wav`` and ``asterisk-prompt-it-menardi-wav``: telephone
  prompts read by professional speakers (Allison Smith: en, es; June Wallack: fr; CC BY-SA 3.0.
  Carlo Flora: it, CC BY 3.0; Paola Dal Zot for Marco Menardi: it, CC BY-SA 3.0 Italian),
  8 kHz WAV, neutral.

Which corpus gets which voices is the generator's choice (``generate.py``): a corpus whose language
one of these voices speaks gets that voice first; the remaining speakers of corpora that take real
voices are the acted fillets voices (in Czech or Dutch: what is rendered is the voice and its
prosody; the corpora's own transcripts are not what is spoken). Corpora of other languages stay
espeak-ng.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# What the embedded data's audio is made of (``--synth-voices``; each recipe's default is in its
# defaults.sh) and the library's default when none is given.
VOICE_CHOICES = {
    "espeak": "espeak-ng prosody prototypes only",
    "real": "real voices with rendered emotion, espeak-ng for the languages they do not speak",
    "neutral": "real voices for neutral utterances only, espeak-ng emotions",
}
DEFAULT_VOICES = "espeak"

FILLETS = Path(os.environ.get("SER_FILLETS_DIR", "/usr/share/games/fillets-ng/sound"))
ASTERISK = Path(os.environ.get("SER_ASTERISK_DIR", "/usr/share/asterisk/sounds"))
PACKAGES = ["fillets-ng-data-cs", "fillets-ng-data-nl", "asterisk-core-sounds-en-wav", "asterisk-core-sounds-fr-wav",
            "asterisk-core-sounds-es-wav", "asterisk-core-sounds-it-wav", "asterisk-prompt-it-menardi-wav"]
# asterisk folder -> (voice name, gender, language)
ASTERISK_VOICES = {"en_US_f_Allison": ("allison_en", "F", "en"), "fr_CA_f_June": ("june_fr", "F", "fr"),
                   "es_MX_f_Allison": ("allison_es", "F", "es"), "it_IT_f_Menardi": ("menardi_it", "F", "it"),
                   "it_IT_m_Carlo": ("carlo_it", "M", "it")}
FILLETS_VOICES = {("cs", "m"): ("fish_small_cs", "F"), ("cs", "v"): ("fish_big_cs", "M"),
                  ("nl", "m"): ("fish_small_nl", "F"), ("nl", "v"): ("fish_big_nl", "M")}
MIN_BYTES = {"wav": 8000 * 2 * 1.2, "ogg": 9000}  # skip clips shorter than ~1.2 s (single words, noises)


@dataclass
class Voice:
    name: str
    gender: str
    language: str
    clips: list = field(default_factory=list)
    sample_rate: int = 16000


def find_voices(min_clips: int = 30) -> dict:
    """{voice name: Voice} of the installed packages (voices with fewer than ``min_clips`` long
    enough clips are left out; an empty dict when none is installed)."""
    voices = {}
    for (lang, who), (name, gender) in FILLETS_VOICES.items():
        clips = sorted(p for p in FILLETS.glob(f"*/{lang}/*-{who}-*.ogg") if p.stat().st_size >= MIN_BYTES["ogg"])
        voices[name] = Voice(name, gender, lang, clips, 22050)
    for folder, (name, gender, lang) in ASTERISK_VOICES.items():
        clips = sorted(p for p in (ASTERISK / folder).rglob("*.wav") if p.stat().st_size >= MIN_BYTES["wav"])
        voices[name] = Voice(name, gender, lang, clips, 8000)
    return {k: v for k, v in voices.items() if len(v.clips) >= min_clips}
