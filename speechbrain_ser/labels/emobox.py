"""EmoBox's fold lists as a split source (``splits: emobox:<dir>`` in a label config, ``fold: k``).

EmoBox (Ma et al., Interspeech 2024) publishes speaker-independent in-domain folds as
``<dir>/<corpus>/fold_<k>/<corpus>_{train,test}_fold_<k>.jsonl`` (``<dir>`` is EmoBox's ``data``
folder), one JSON object a line whose ``wav`` is a path in EmoBox's download layout. A list
entry and a manifest utterance are the same recording when the corpus's own naming says so,
whatever the top folders, letter case or extension: the file name, or the last
``RECORDING_KEY_PARTS`` path parts where the corpus module sets it (CASIA: speaker/emotion/
number, its numbers repeating across folders). List entries with no file on disk are
counted in the note, never fatal (a partial copy of a corpus); utterances in no list of the
fold are left out of the run.
"""
from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from .harmonise import LabelConfigError


def recording_key(corpus: str, path: str) -> str:
    from .. import corpora

    try:
        parts = getattr(corpora.get(corpus), "RECORDING_KEY_PARTS", 1)
    except KeyError:
        parts = 1
    p = PurePosixPath(str(path).replace("\\", "/"))
    return "/".join([*p.parent.parts[len(p.parent.parts) - (parts - 1):], p.stem] if parts > 1 else [p.stem]).lower()


def read_fold(folder: Path | str, corpus: str, fold: int) -> dict:
    """{recording key: 'train' or 'test'} of one fold; errors name the file and line."""
    base = Path(folder) / corpus / f"fold_{fold}"
    roles: dict = {}
    for role in ("train", "test"):
        path = base / f"{corpus}_{role}_fold_{fold}.jsonl"
        if not path.exists():
            have = sorted(p.name for p in (Path(folder) / corpus).glob("fold_*")) if (Path(folder) / corpus).is_dir() else []
            raise LabelConfigError(f"{path}: no such EmoBox fold list (folds there: {', '.join(have) or 'none'})")
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                wav = json.loads(line)["wav"]
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise LabelConfigError(f"{path}:{n}: not an EmoBox list line with a 'wav' ({e})") from None
            key = recording_key(corpus, wav)
            if roles.get(key, role) != role:
                raise LabelConfigError(f"{path}:{n}: {wav} is in both the train and the test list")
            roles[key] = role
    return roles


def fold_splits(folder, corpus: str, fold: int, entries: dict) -> tuple[dict, str]:
    """({uid: 'train' or 'test'} for the utterances of ``entries`` in the fold's lists, a note)."""
    roles = read_fold(folder, corpus, fold)
    out, found = {}, set()
    for uid, e in entries.items():
        key = recording_key(corpus, e["wav"])
        if key in roles:
            out[uid] = roles[key]
            found.add(key)
    missing = sorted(set(roles) - found)
    note = (f"EmoBox fold {fold}: {sum(r == 'train' for r in out.values())} train, "
            f"{sum(r == 'test' for r in out.values())} test")
    if missing:
        note += f"; {len(missing)} listed files not on disk (e.g. {missing[0]})"
    if len(out) < len(entries):
        note += f"; {len(entries) - len(out)} utterances in no list left out"
    return out, note
