"""A corpus given as lhotse manifests (``RecordingSet`` + ``SupervisionSet``, the format of
k2/icefall and many research codebases): data already in lhotse enters the recipes without a
reader of its own. Needs the ``lhotse`` extra (``pip install 'speechbrain_ser[lhotse]'``).

Folder read: ``<data root>/lhotse/`` holding one or more pairs of lhotse manifests named as lhotse
names them, ``<prefix>recordings<suffix>.jsonl[.gz]`` beside ``<prefix>supervisions<suffix>.jsonl[.gz]``
(e.g. ``mycorpus_recordings_train.jsonl.gz``), at any depth. One supervision is one utterance:

* id: the supervision's id (the utterance id of the manifest);
* native label: ``custom["emotion"]`` (mapped by the mapping rows of corpus ``lhotse``: the unified
  class names, as ``python -m speechbrain_ser.prepare lhotse`` writes them; other names need rows);
* speaker, gender (``F``/``M``, anything else ``U``), language (ISO 639-1; ``und`` when absent),
  text as the transcript; ``custom["split"]`` (train/dev/test) as the corpus's own split,
  ``custom["avd"]`` ([arousal, valence, dominance]) as the consensus attributes; the other custom
  fields (``corpus``, ``native``: where an exported utterance came from) as ``lhotse_<key>``.

The audio is the recording's file (a single ``file`` source). Rejected per supervision: no emotion,
a recording that is not one file, a supervision covering only part of its recording (the recipes
read whole files: cut the audio per supervision first, e.g. lhotse's ``CutSet.save_audios``).
A manifest that does not parse stops stage 1 naming the file.
"""
from __future__ import annotations

from pathlib import Path

from .base import CorpusError, Reject, Row

NAME, LANGUAGE, DIRNAME = "lhotse", "und", "lhotse"
# the emotion names the mapping rows of corpus ``lhotse`` know: the unified space's classes
LABELS = {"anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"}
SPLITS = ("train", "dev", "test")
EMOTION = "emotion"  # the supervision's custom field holding the emotion


def lhotse_module():
    try:
        import lhotse
    except ImportError:
        raise ImportError("lhotse manifests need lhotse: pip install 'speechbrain_ser[lhotse]'") from None
    return lhotse


def manifest_pairs(root: Path) -> list:
    """[(recordings file, supervisions file)] below ``root``, sorted."""
    pairs = []
    for sup in sorted(Path(root).rglob("*supervisions*.jsonl*")):
        rec = sup.with_name(sup.name.replace("supervisions", "recordings", 1))
        if not rec.exists():
            raise CorpusError(sup, f"no recordings manifest beside it (expected {rec.name})")
        pairs.append((rec, sup))
    if not pairs:
        raise CorpusError(root, "no lhotse supervisions manifest (*supervisions*.jsonl[.gz]) found")
    return pairs


def _load(path: Path, kind):
    lhotse = lhotse_module()
    try:
        m = lhotse.load_manifest(path)
    except Exception as e:  # lhotse raises ValueError, KeyError, JSONDecodeError, ... on a bad manifest
        raise CorpusError(path, f"not a readable lhotse manifest ({type(e).__name__}: {str(e)[:200]})") from None
    if not isinstance(m, kind):
        raise CorpusError(path, f"holds a {type(m).__name__}, not a {kind.__name__}")
    return m


def prepare(root: Path):
    lhotse = lhotse_module()
    for rec_path, sup_path in manifest_pairs(root):
        recordings = _load(rec_path, lhotse.RecordingSet)
        for s in _load(sup_path, lhotse.SupervisionSet):
            where = f"{sup_path} (supervision {s.id})"
            if s.recording_id not in recordings:
                raise CorpusError(sup_path, f"supervision {s.id} names recording {s.recording_id}, "
                                            f"which {rec_path.name} does not hold")
            rec = recordings[s.recording_id]
            if len(rec.sources) != 1 or rec.sources[0].type != "file":
                yield Reject(Path(str(rec.id)), f"recording {rec.id} is not one audio file ({where})")
                continue
            path = Path(rec.sources[0].source)
            if not path.is_absolute():
                path = (Path(root) / path) if (Path(root) / path).exists() else path.resolve()
            if s.start > 1e-3 or s.duration < rec.duration - 1e-2:
                yield Reject(path, f"supervision {s.id} covers {s.start:.2f}-{s.end:.2f} s of a "
                                   f"{rec.duration:.2f} s recording: cut the audio per supervision first")
                continue
            custom = dict(s.custom or {})
            emotion = custom.pop(EMOTION, None)
            if not emotion:
                yield Reject(path, f"supervision {s.id} has no custom['{EMOTION}']")
                continue
            split = custom.pop("split", None)
            avd = custom.pop("avd", None)
            extra = {f"lhotse_{k}": v for k, v in custom.items() if isinstance(v, (str, int, float, bool))}
            if s.language:
                extra["language"] = s.language
            yield Row(id=s.id, path=path, speaker=s.speaker, gender=s.gender if s.gender in ("F", "M") else "U",
                      native=str(emotion), source=where, split=split if split in SPLITS else None,
                      transcript=s.text or None, avd=list(avd) if avd else None, extra=extra)
