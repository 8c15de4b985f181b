"""nEMO, emotional speech in Polish (Christop, LREC-COLING 2024): 9 actors, 6 emotional states.

Release read: the GitHub/Hugging Face release ``amu-cai/nEMO`` (CC BY-NC-SA 4.0),
about 4,500 utterances. Files:

* ``samples/<speaker>_<emotion>_<sentence>.wav``, e.g. ``samples/EB0_anger_1.wav``;
* ``data.tsv`` with columns ``file_id, emotion, raw_text, normalized_text,
  speaker_id, gender, age``; ``emotion`` is one of anger, fear, happiness,
  neutral, sadness, surprised; ``gender`` female/male; ``speaker_id`` is padded
  with spaces in the release (``        WR0``) and is stripped here.

The release has no predefined split (its README says so): stage 2 makes a
speaker-disjoint one, or the corpus is held out for zero-shot scoring.
Accepted at any depth (``samples/`` or flat, a ``nEMO/`` or ``nEMO-main/``
wrapper). Without ``data.tsv`` the file names still give speaker and emotion
(gender U, no transcript) and the log says so. Rejected: files whose name and
``data.tsv`` disagree on the emotion, unknown emotions, other names, and
``data.tsv`` rows without audio (listed as missing). A malformed ``data.tsv``
(missing columns, short rows) is an error naming the line.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .base import Reject, Row, Skip, check_label, each_file, read_csv

log = logging.getLogger(__name__)
NAME, LANGUAGE, DIRNAME = "nemo", "pl", "nEMO"
LABELS = {"anger", "fear", "happiness", "neutral", "sadness", "surprised"}
LAYOUTS = [r"(?P<spk>[A-Z]{2}\d)_(?P<emo>[a-z]+)_(?P<num>\d+)"]
COLUMNS = ["file_id", "emotion", "raw_text", "speaker_id", "gender"]


def prepare(root: Path):
    found = sorted(root.rglob("data.tsv"))
    meta = {}
    if found:
        for n, r in read_csv(found[0], COLUMNS, delimiter="\t"):
            meta[r["file_id"].strip()] = (n, r)
    else:
        log.warning("nEMO: no data.tsv below %s; speaker and emotion from the file names only", root)
    seen = set()

    def row(f: Path, m) -> Row:
        emo = check_label(m["emo"], LABELS, "nEMO")
        seen.add(f.name)
        n, r = meta.get(f.name, (None, None))
        if found and r is None:
            raise Skip(f"not listed in {found[0].name}")
        if r is not None and r["emotion"].strip() != emo:
            raise Skip(f"file name says '{emo}' but {found[0].name}:{n} says '{r['emotion'].strip()}'")
        spk = r["speaker_id"].strip() if r is not None else m["spk"]
        gender = {"female": "F", "male": "M"}.get(r["gender"].strip().lower(), "U") if r is not None else "U"
        return Row(id=f"nemo_{f.stem}", path=f, speaker=f"nemo_{spk}", gender=gender, native=emo,
                   source=f"{found[0]}:{n}" if r is not None else str(f),
                   transcript=r["raw_text"].strip() if r is not None else None)

    yield from each_file(root, LAYOUTS, "nEMO", row)
    for name, (n, _) in meta.items():
        if name not in seen:
            yield Reject(found[0].parent / "samples" / name, f"listed in {found[0].name}:{n} but no audio found")
