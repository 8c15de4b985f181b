"""Apply an exported model (``speechbrain_ser.export``) to audio.

    from speechbrain_ser.inference import EmotionRecognizer
    model = EmotionRecognizer.from_hparams(source="exp/Multilingual16/mini/model", savedir="/tmp/ser")
    out_prob, score, index, text_lab = model.classify_file("speech.wav")   # SpeechBrain's emotion shape
    model.predict_file("speech.wav")
    model.predict_timeline("long.wav", window=3.0, hop=1.0)   # emotion over time (speechbrain_ser.timeline)
    # {'label': 'anger', 'probs': {'neutral': 0.02, ...}, 'arousal': 5.1, 'valence': 2.3, 'dominance': 4.8}

``source`` is a local model directory or a hub name (SpeechBrain's fetching).
Plain SpeechBrain loads the same folder with
``foreign_class(source=DIR, pymodule_file="custom_interface.py", classname="EmotionRecognizer")``.

* Audio: anything soundfile reads, any sample rate (resampled to the model's
  16 kHz), channels mixed down. A file no longer than the training crop
  (``max_seconds``) is one utterance; a longer one is predicted from windows of
  that length covering the whole file (mean of the windows; ``crop=True`` keeps
  the first ``max_seconds`` only, as in training). A model trained on silence-trimmed
  audio (``trim_db``) decides this on the trimmed length, and its windows cover the
  trimmed speech: a long file is read as training read an utterance. Unreadable, empty or
  non-finite audio raises ``AudioError`` naming the file.
* ``out_prob`` / ``probs``: the categorical head read through the function its
  loss trained (``head_output``: softmax, or sigmoid for BCE-trained heads, whose
  class scores need not sum to 1). ``label`` is their argmax. Softmax heads are
  calibrated by default with the temperature stage 4 fitted on the development
  set (``temperature`` in hyperparams.yaml; ``calibrated = False`` for the raw
  softmax; the argmax is the same either way).
* ``arousal``, ``valence``, ``dominance`` (models with attribute heads): on the
  1-7 scale of the training labels (``attribute_scale``).
* A batch gives the same result for each file as one-at-a-time (each utterance
  is computed over its own samples only; tested to < 1e-4).
* Speaker-normalised models (``speaker_norm: True`` in training, ``speaker_norm.py``):
  ``predict_files(paths, groups=[speaker of each file])`` normalises each file with the
  statistics of its group's files (``speaker_norm.SpeakerNormalizer.for_groups``), so a file's prediction depends on its
  group, never on its batch; a file without a group (None, or no ``groups``) is normalised
  with the training statistics and depends on nothing else.
"""
from __future__ import annotations

import numpy as np
import torch
from speechbrain.inference.interfaces import Pretrained

from .audio import AudioError, duration, read_audio, speech_span
from .brains.emotion import utterance_embedding
from .datasets import pad_right
from .losses import OUTPUT_FUNCTIONS
from .speaker_norm import SpeakerNormalizer
from .timeline import predict_timeline


class Recognizer:
    """What every recogniser is: the PyTorch model (``EmotionRecognizer``), the ONNX backend
    (``onnx_export.OnnxRecognizer``) and test stand-ins. A backend sets the attributes and implements
    ``forward_batch``; the named-result API (``predict_batch``, ``predict_file(s)``,
    ``predict_timeline``, ``classify_*``) is shared and written once, here.

    ``speaker_stats`` is always accepted: (B, 2, L, D) per utterance (``forward_batch``), (2, L, D)
    for a whole file (``predict_timeline``), None = the model's training statistics. A backend that
    cannot apply it (not speaker-normalised, or ONNX) raises when given one."""

    classes: list = []
    attributes: list = []
    sample_rate: int = 16000
    max_seconds: float | None = None   # the training crop; a longer file is predicted from windows
    trim_db: float | None = None       # audio read as in training (audio.read_audio)
    level_db: float | None = None
    head_output: str = "softmax"       # what ``probs`` are (softmax, sigmoid, ...)
    needs_transcript: bool = False     # fuses a transcript embedding: texts=[...] needed
    speaker_normalised: bool = False   # trained with speaker normalisation (speaker_norm.py)
    speaker_norm_group: str | None = None  # the manifest field that grouped training utterances for it

    def load_audio(self, path, savedir=None):  # noqa: ARG002 (SpeechBrain's signature)
        return read_audio(path, self.sample_rate, self.max_seconds, self.trim_db, self.level_db)

    def forward_batch(self, wavs: torch.Tensor, wav_lens: torch.Tensor | None = None, texts=None,
                      speaker_stats: torch.Tensor | None = None) -> dict:
        """{'probs': (B, C) or None, 'attributes': (B, 3) on the label scale or None}."""
        raise NotImplementedError

    def forward_hidden(self, feats: torch.Tensor, lens: torch.Tensor, speaker_stats: torch.Tensor | None = None) -> dict:
        """As ``forward_batch`` from the upstream's cached hidden states (B, T, L, D)."""
        raise NotImplementedError(f"{type(self).__name__} scores audio only")

    def states(self, path, hidden=None) -> np.ndarray:
        """(T, L, D): the hidden states speaker statistics are computed from (speaker-normalised models)."""
        raise ValueError("this model was not trained with speaker normalisation (speaker_norm: False)")

    def group_stats(self, paths: list, hidden=None) -> torch.Tensor:
        """(2, L, D): the statistics of one speaker group's files (``SpeakerNormalizer.for_groups``)."""
        return SpeakerNormalizer.for_groups(paths, [0] * len(paths), lambda p: self.states(p, hidden))[0]

    def check_classes(self, classes: list | None) -> None:
        """Raises unless each of ``classes`` (a class restriction) is one of the model's classes."""
        unknown = sorted(set(classes or []) - set(self.classes))
        if unknown:
            raise ValueError(f"classes {unknown} are not among the model's classes {self.classes}")

    # ---- SpeechBrain's emotion interface -------------------------------------------
    def classify_batch(self, wavs, wav_lens=None):
        """(out_prob (B, C), score (B,), index (B,), text_lab [B]), SpeechBrain's contract for its emotion
        models (``EncoderClassifier`` and the IEMOCAP model's ``custom_interface.py``, whose softmax has
        ``apply_log: True``): ``out_prob`` holds log-posteriors (the log of the calibrated probabilities),
        ``score`` the best class's log-posterior, ``text_lab`` its label. Probabilities:
        ``out_prob.exp()``, or ``predict_batch``'s named results."""
        probs = self.forward_batch(wavs, wav_lens)["probs"]
        if probs is None:
            raise ValueError("this model has no categorical head (attributes only): use predict_batch")
        return self._log_posteriors(probs)

    def classify_file(self, path):
        """As ``classify_batch`` for one file (a file longer than the crop: windows, see ``predict_files``)."""
        if not self.classes:
            raise ValueError("this model has no categorical head (attributes only): use predict_file")
        r = self.predict_file(path)
        return self._log_posteriors(torch.tensor([[r["probs"][c] for c in self.classes]]))

    def _log_posteriors(self, probs):
        log_p = probs.clamp_min(1e-30).log()
        score, index = log_p.max(-1)
        return log_p, score, index, [self.classes[i] for i in index.tolist()]

    # ---- named results -------------------------------------------------------------
    def predict_batch(self, wavs, wav_lens=None, texts=None, speaker_stats=None) -> list:
        """One dict per utterance: label, probs {class: p}, and arousal/valence/dominance if the model has them."""
        return named_results(self, self.forward_batch(wavs, wav_lens, texts, speaker_stats), wavs.shape[0])

    def predict_file(self, path, text=None, crop: bool = False, classes: list | None = None) -> dict:
        """One file's prediction (see ``predict_files``: a file longer than the model's crop is
        predicted from windows covering it unless ``crop``)."""
        for _, r in self.predict_files([path], 1, None if text is None else [text], crop=crop, classes=classes):
            if isinstance(r, Exception):
                raise r
            return r

    def predict_files(self, paths: list, batch_size: int = 8, texts: list | None = None, progress=None,
                      crop: bool = False, classes: list | None = None, groups: list | None = None, hidden=None):
        """(index, result or AudioError) for each of ``paths``; see ``predict_files``."""
        return predict_files(self, paths, batch_size, texts, progress, crop, classes, groups, hidden)

    def predict_timeline(self, path, window: float = 3.0, hop: float = 1.0, min_segment: float = 2.0,
                         batch_size: int = 16, classes: list | None = None, speaker_stats=None) -> dict:
        """Emotion over time on (long) audio: per-window rows and merged segments (``timeline``)."""
        return predict_timeline(self, path, window, hop, min_segment, batch_size, classes, speaker_stats)


# the names an exported model folder used before speaker normalisation had one name: still loaded
class EmotionRecognizer(Recognizer, Pretrained):
    """Utterance-level emotion (classes and/or arousal, valence, dominance) of an exported model."""

    MODULES_NEEDED = ["upstream", "layer_sum", "pooler"]
    HPARAMS_NEEDED = ["classes", "head_output", "sample_rate", "attributes", "attribute_scale"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        hp = self.hparams
        _check_version(getattr(hp, "speechbrain_ser_requires", None))
        self.classes = list(hp.classes)
        if self.classes:
            decoded = [hp.label_encoder.ind2lab[i] for i in range(len(self.classes))]
            if decoded != self.classes:
                raise ValueError(f"label_encoder {decoded} disagrees with classes {self.classes}")
        self.attributes = list(hp.attributes)
        self.sample_rate = int(hp.sample_rate)
        self.head_output = hp.head_output
        # optional keys of hyperparams.yaml (absent in a folder exported before they existed)
        self.temperature = float(getattr(hp, "temperature", 1.0) or 1.0)
        self.calibrated = True  # apply the temperature (softmax heads)
        self.max_seconds = getattr(hp, "max_seconds", None)
        self.trim_db = getattr(hp, "trim_db", None)
        self.level_db = getattr(hp, "level_db", None)
        self.needs_transcript = bool(getattr(hp, "needs_transcript", False))
        self.normalizer = SpeakerNormalizer.of_model(self.mods, hp)
        self.speaker_normalised = self.normalizer is not None
        self.speaker_norm_group = self.normalizer.group_key if self.normalizer is not None else None

    # ---- the model -------------------------------------------------------------
    @torch.no_grad()
    def states(self, path, hidden=None) -> np.ndarray:
        """(T, L, D): the upstream's hidden states of the layers the layer sum uses, of ``path`` read
        as the model reads it; ``hidden``: path → the cached states of that file or None."""
        if not self.speaker_normalised:
            return super().states(path, hidden)
        cached = hidden(path) if hidden is not None else None
        if cached is not None:
            return np.asarray(cached, dtype=np.float32)
        hid = self.mods.upstream(self.load_audio(path)[None].to(self.device).float())  # (L, 1, T, D)
        layers = self.mods.layer_sum.layers
        return (hid[layers] if layers else hid)[:, 0].transpose(0, 1).cpu().numpy()

    @torch.no_grad()
    def forward_batch(self, wavs: torch.Tensor, wav_lens: torch.Tensor | None = None, texts=None,
                      speaker_stats: torch.Tensor | None = None) -> dict:
        """{'probs': (B, C) or None, 'attributes': (B, 3) on the label scale or None}.
        ``speaker_stats`` (B, 2, L, D): each utterance's speaker statistics (speaker-normalised models;
        None or NaN rows: the training statistics)."""
        if wav_lens is None:
            wav_lens = torch.ones(wavs.shape[0])
        if self.needs_transcript and texts is None:
            raise ValueError("this model fuses a transcript embedding: pass texts=[...] (one per utterance)")
        wavs, wav_lens = wavs.to(self.device).float(), wav_lens.to(self.device)
        return self._outputs(utterance_embedding(self.mods, wavs, wav_lens, texts,
                                                 speaker_stats=self._stats(speaker_stats)))

    @torch.no_grad()
    def forward_hidden(self, feats: torch.Tensor, lens: torch.Tensor, speaker_stats: torch.Tensor | None = None) -> dict:
        """As ``forward_batch`` from the upstream's hidden states (B, T, L, D) (``feature_cache.py``'s cache of
        this upstream, each utterance encoded alone) instead of audio: the modules after the upstream."""
        return self._outputs(utterance_embedding(self.mods, None, lens.to(self.device), None,
                                                 feats=feats.to(self.device).float(),
                                                 speaker_stats=self._stats(speaker_stats)))

    def _stats(self, speaker_stats):
        if speaker_stats is None:
            return None
        if not self.speaker_normalised:
            raise ValueError("speaker statistics given, but this model was not trained with speaker normalisation")
        return speaker_stats.to(self.device).float()

    def _outputs(self, emb: torch.Tensor) -> dict:
        out = {"probs": None, "attributes": None}
        if "head" in self.mods:
            logits = self.mods.head(emb)
            if self.head_output == "softmax" and self.calibrated:
                logits = logits / self.temperature
            out["probs"] = OUTPUT_FUNCTIONS[self.head_output](logits).cpu()
        if "avd_heads" in self.mods:
            lo, hi = self.hparams.attribute_scale
            out["attributes"] = (lo + (hi - lo) * self.mods.avd_heads(emb)).cpu()
        return out


def named_results(model, out: dict, n: int) -> list:
    """``forward_batch``'s tensors as one dict per utterance: label, probs {class: p}, and
    arousal/valence/dominance if the model has them (any backend with ``classes``/``attributes``)."""
    results = []
    for i in range(n):
        r = {}
        if out["probs"] is not None:
            p = out["probs"][i].tolist()
            r["label"] = model.classes[int(np.argmax(p))]
            r["probs"] = dict(zip(model.classes, p))
        if out["attributes"] is not None:
            r.update(zip(model.attributes, out["attributes"][i].tolist()))
        results.append(r)
    return results


def restrict_label(r: dict, classes: list | None) -> dict:
    """``label`` = the argmax over ``classes`` only (class restriction, as stage 4 scores a corpus
    with fewer classes than the model); the probabilities are left as they are."""
    if classes and "probs" in r:
        r["label"] = max(classes, key=lambda c: r["probs"][c])
    return r


def windowed(model, path, classes: list | None = None, batch_size: int = 16, speaker_stats=None) -> dict:
    """A file longer than the model's crop: windows of ``max_seconds`` every ``max_seconds / 2``
    covering the whole file (``timeline``), the mean of the windows' class outputs and attributes."""
    w = float(model.max_seconds)
    tl = model.predict_timeline(path, window=w, hop=w / 2, min_segment=0.0, batch_size=batch_size,
                                speaker_stats=speaker_stats)
    rows = tl["windows"]
    r = {}
    if model.classes:
        mean = {c: float(np.mean([x["probs"][c] for x in rows])) for c in model.classes}
        r = {"label": max(model.classes, key=mean.get), "probs": mean,
             "window_probs": [x["probs"] for x in rows]}  # each window's, for a later temperature (stage 4)
    r.update({a: float(np.mean([x[a] for x in rows])) for a in model.attributes})
    r.update(seconds=round(rows[-1]["end"] - rows[0]["start"], 3), windows=len(rows))
    return restrict_label(r, classes)


def predict_files(model, paths: list, batch_size: int = 8, texts: list | None = None, progress=None,
                  crop: bool = False, classes: list | None = None, groups: list | None = None, hidden=None):
    """A lazy generator of (index into ``paths``, result or AudioError) in the batches' order
    (``dict(predict_files(...))`` gives them by index), batched by duration, longest first; a failing
    file is reported and the others go on. Windows, ``crop`` and ``groups``: the module docstring
    (a model that fuses a transcript is cropped); ``seconds`` is the audio used, ``windows`` how many
    windows (1 = one utterance); ``classes`` restricts each ``label``. ``hidden`` (stage 4): path →
    that file's hidden states (T, L, D) from this upstream's feature cache
    (``feature_cache.cached_hidden``) or None; a file no longer than the crop that has them skips the
    upstream (the same result: the cache encodes each utterance alone). Bad arguments and the groups'
    statistics raise here, before the first result."""
    model.check_classes(classes)
    stats = {}
    if groups is not None:
        if not model.speaker_normalised:
            raise ValueError("groups given, but this model was not trained with speaker normalisation")
        stats = SpeakerNormalizer.for_groups(paths, groups, lambda p: model.states(p, hidden))
    return _predict_files(model, paths, batch_size, texts, progress, crop, classes, groups, hidden, stats)


def _predict_files(model, paths, batch_size, texts, progress, crop, classes, groups, hidden, stats):
    """``predict_files``'s generator, after its checks and the groups' statistics (``stats``)."""
    group_of = lambda i: groups[i] if groups is not None else None  # noqa: E731
    # the audio as the model reads it decides on windowing: a trimmed model's speech, not the file's silence
    durs = [_heard_seconds(model, p) for p in paths]
    order = sorted(range(len(paths)), key=lambda i: -durs[i])
    limit = model.max_seconds if (model.max_seconds and not crop and texts is None) else None
    for start in range(0, len(order), batch_size):
        idx, wavs, errors, done, cached = [], [], [], [], []
        for i in order[start:start + batch_size]:
            try:
                if limit and durs[i] > limit + 1e-3:
                    done.append((i, windowed(model, paths[i], classes, batch_size, stats.get(group_of(i)))))
                    continue
                h = hidden(paths[i]) if hidden is not None and texts is None else None
                if h is not None:
                    cached.append((i, torch.as_tensor(np.asarray(h, dtype=np.float32))))
                    continue
                wavs.append(model.load_audio(paths[i]))
                idx.append(i)
            except AudioError as e:
                errors.append((i, e))
        yield from errors
        yield from done
        if cached:
            feats = torch.nn.utils.rnn.pad_sequence([h for _, h in cached], batch_first=True)
            lens = torch.tensor([len(h) / feats.shape[1] for _, h in cached])
            out = model.forward_hidden(feats, lens, SpeakerNormalizer.batch(stats, [group_of(i) for i, _ in cached]))
            for (i, h), r in zip(cached, named_results(model, out, len(cached))):
                r["seconds"] = round(durs[i], 3)
                r["windows"] = 1
                yield i, restrict_label(r, classes)
        if wavs:
            batch, lens = pad_right(wavs)
            tx = [texts[i] for i in idx] if texts is not None else None
            out = model.predict_batch(batch, lens, tx, SpeakerNormalizer.batch(stats, [group_of(i) for i in idx]))
            for i, w, r in zip(idx, wavs, out):
                r["seconds"] = round(len(w) / model.sample_rate, 3)
                r["windows"] = 1
                yield i, restrict_label(r, classes)
        if progress is not None:
            progress.update(len(idx) + len(errors) + len(done) + len(cached))


def _heard_seconds(model, path) -> float:
    """Seconds of ``path`` the model reads (after ``trim_db`` trimming where it has it), -1 if unreadable."""
    if model.trim_db is None:
        return duration(path)
    try:
        a, b = speech_span(path, model.trim_db)
    except AudioError:
        return -1.0
    return b - a


def _check_version(requires: str | None):
    from packaging.specifiers import SpecifierSet

    from . import __version__

    if requires and __version__ not in SpecifierSet(requires):
        raise RuntimeError(f"this model needs speechbrain_ser {requires}; installed: {__version__}")


def default_device() -> str:
    """``cuda`` when PyTorch sees a GPU, else ``cpu``: the device of stage 3, stage 4 and ``ser-predict``
    unless one is named."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def load(model_dir, savedir=None, device: str | None = None) -> EmotionRecognizer:
    """An exported model from a local folder or hub name, on ``device`` (None: ``default_device()``);
    ``savedir`` = where SpeechBrain collects its files (links to a local folder's files; None =
    SpeechBrain's default)."""
    return EmotionRecognizer.from_hparams(source=str(model_dir), savedir=str(savedir) if savedir else None,
                                          run_opts={"device": device or default_device()})
