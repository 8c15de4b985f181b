"""One Brain for utterance-level emotion: categorical head, optional attribute
heads (A/V/D, 1-CCC), optional domain-adversarial and gender auxiliary heads.

Everything it uses lives in ``self.modules`` / ``self.hparams`` (the yaml):
``upstream`` → ``layer_sum`` → ``pooler`` → ``head`` (+ ``domain_head`` behind a
gradient reversal layer, ``gender_head``, ``avd_heads``). The categorical loss is
``compute_cost(logits, targets, class_weights)``; checkpoints are selected on
``select_key`` (``select_mode`` max/min) among the validation statistics.
"""
from __future__ import annotations

import time

import numpy as np
import speechbrain as sb
import torch
import torch.nn.functional as F

from .. import metrics
from ..augment import training_suite
from ..losses import ccc_loss, head_output


def utterance_embedding(mods, wavs, lens, texts=None, feats=None, wav_augment=None, speaker_stats=None):
    """The utterance embedding from ``mods`` (upstream → layer_sum → pooler [+ text_encoder]):
    the one forward path of training (``EmotionBrain``) and inference (``inference.EmotionRecognizer``).
    ``feats`` (B, T, L, D) = cached upstream layers (feature_cache.py) instead of ``wavs``.
    ``speaker_stats`` (B, 2, L, D): each utterance's speaker statistics for a ``speaker_norm_layer`` model
    (``speaker_norm.py``; None or NaN rows: the training statistics)."""
    if _has(mods, "speaker_norm_layer"):
        speaker_stats = mods["speaker_norm_layer"](speaker_stats, (feats if feats is not None else wavs).shape[0])
    else:
        speaker_stats = None
    if feats is not None:
        summed = mods["layer_sum"](feats.permute(2, 0, 1, 3), selected=True, speaker_stats=speaker_stats)
    else:
        if wav_augment is not None:  # in float32 under bf16/fp16 autocast: the IIR filters run in float only
            with torch.autocast(device_type=wavs.device.type, enabled=False):
                wavs = wav_augment(wavs.float(), lens)
        up = mods["upstream"]
        summed = mods["layer_sum"](up(wavs, lens), speaker_stats=speaker_stats)
        inner = getattr(up, "module", up)  # under DDP the upstream is wrapped: its methods are the module's
        if hasattr(inner, "output_lengths"):  # each utterance's exact share of the upstream's frames
            lens = inner.output_lengths(wavs, lens)
    emb = mods["pooler"](summed, lens)
    if _has(mods, "text_encoder"):  # multimodal: transcript embedding fused by concatenation
        emb = torch.cat([emb, mods["text_encoder"](texts)], -1)
    return emb


def _has(mods, name):
    return name in mods and mods[name] is not None


class EmotionBrain(sb.Brain):
    """SpeechBrain's Brain with what training derives from the data, given at construction:
    ``speakers`` (the speaker head's classes), ``class_weights`` (the categorical loss's),
    ``normalizer`` (``speaker_norm.SpeakerNormalizer``, fitted on each set by ``train.make_datasets``)."""

    def __init__(self, *args, speakers: list | None = None, class_weights: torch.Tensor | None = None,
                 normalizer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.speakers, self.normalizer = speakers, normalizer
        self.class_weights = class_weights.to(self.device) if class_weights is not None else None
        self.wav_augment = training_suite(vars(self.hparams))
        up = self.modules["upstream"] if "upstream" in self.modules else None
        if not getattr(self.hparams, "augment", True) and getattr(up, "spec_augment", None) is not None:
            up.spec_augment = None  # augment: False: no augmentation, the upstream's SpecAugment included

    # ---- forward -----------------------------------------------------------
    def embed(self, wavs, lens, augment=False, texts=None, feats=None, speaker_stats=None):
        aug = self.wav_augment if augment else None
        return utterance_embedding(self.modules, wavs, lens, texts, feats, aug, speaker_stats)

    def compute_forward(self, batch, stage):
        batch = batch.to(self.device)
        feats = getattr(batch, "feats", None)
        speaker_stats = batch.speaker_stats.data if hasattr(batch, "speaker_stats") else None  # speaker statistics (speaker_norm)
        if speaker_stats is not None and stage == sb.Stage.TRAIN:
            speaker_stats = self.normalizer.training_view(speaker_stats)
        if feats is not None:
            feats, lens = feats  # float16 from the in-memory cache: the layer sum reads it as such
            if self.top_layers:
                feats = self.cached_top(feats, lens)
            emb = self.embed(None, lens, texts=batch.y_text, feats=feats, speaker_stats=speaker_stats)
        else:
            wavs, lens = batch.sig
            emb = self.embed(wavs, lens, augment=stage == sb.Stage.TRAIN, texts=batch.y_text, speaker_stats=speaker_stats)
        out = {"emb": emb}
        if self._has("head"):
            out["logits"] = self.modules.head(emb)
        if self._has("avd_heads"):
            out["avd"] = self.modules.avd_heads(emb)
        if stage == sb.Stage.TRAIN and self._has("domain_head") and self.hparams.domain_weight > 0:
            out["domain_logits"] = self.modules.domain_head(emb)
        if stage == sb.Stage.TRAIN and self._has("gender_head") and self.hparams.gender_weight > 0:
            out["gender_logits"] = self.modules.gender_head(emb)
        if stage == sb.Stage.TRAIN and self._has("speaker_head") and self.hparams.speaker_weight > 0:
            out["speaker_scores"] = self.modules.speaker_head(emb.unsqueeze(1))  # cosine, (B, 1, S)
        return out

    def _has(self, name):
        return _has(self.modules, name)

    @property
    def top_layers(self) -> int:
        """Trainable top upstream layers run on cached states (``feature_cache.trainable_top``)."""
        if not getattr(self.hparams, "cache_features", False) or not self._has("upstream"):
            return 0
        from ..feature_cache import trainable_top

        up = self.modules.upstream
        if hasattr(up, "module") and trainable_top(up.module):  # DDP would not see the layers' gradients
            raise SystemExit("trainable_layers > 0 with cache_features: True runs on one process; "
                             "without the cache, DDP fine-tunes the whole upstream path")
        return trainable_top(up)

    def cached_top(self, feats, lens):
        """Cached hidden states (B, T, L, D) of the pretrained upstream with those of its trainable
        top layers recomputed by the current weights from the cached input to the first of them."""
        up = self.modules.upstream
        first = up.n_layers - 1 - up.trainable_layers  # the state entering the first trainable layer
        frames = torch.round(lens * feats.shape[1]).long().clamp(1, feats.shape[1])
        top = up.forward_top(feats[:, :, first].float(), frames)  # (k, B, T, D)
        return torch.cat([feats[:, :, : first + 1].float(), top.permute(1, 2, 0, 3)], 2)

    @torch.no_grad()
    def refresh_speaker_stats(self, batch_size: int = 16):
        """Speaker normalisation over fine-tuned top layers: the normaliser's statistics recomputed
        from the current weights, in batches of utterances of similar length (padded keys masked,
        so each utterance's states are its own, as the exported model computes them alone)."""
        if not (self.top_layers and self.normalizer is not None and self.normalizer.follows_weights):
            return
        was_training = self.modules.training
        self.modules.eval()
        try:
            self.normalizer.refresh(lambda load, uids: self._top_states(load, uids, batch_size))
        finally:
            self.modules.train(was_training)

    def _top_states(self, load, uids, batch_size, chunk: int = 256):
        """(uid, (T, L, D)) for ``uids``: cached states with the top layers' recomputed; ``chunk``
        utterances read at a time, batched by length within it."""
        for c in range(0, len(uids), chunk):
            feats = {u: load(u) for u in uids[c:c + chunk]}
            order = sorted(feats, key=lambda u: feats[u].shape[0])
            for i in range(0, len(order), batch_size):
                batch = order[i:i + batch_size]
                t = feats[batch[-1]].shape[0]
                x = torch.stack([F.pad(feats[u].float(), (0, 0, 0, 0, 0, t - feats[u].shape[0])) for u in batch])
                lens = torch.tensor([feats[u].shape[0] / t for u in batch])
                out = self.cached_top(x.to(self.device), lens.to(self.device)).cpu()
                for j, u in enumerate(batch):
                    yield u, out[j, : feats[u].shape[0]]

    # ---- objectives ----------------------------------------------------------
    def compute_objectives(self, out, batch, stage):
        # start from a zero tied to every head's output: a batch where a term does not apply (all O/X,
        # no known speaker or gender, one utterance for the CCC) still gives each head's parameters a
        # (zero) gradient, so DDP's reduction finds every parameter used on every process
        loss = sum(v.sum() for v in out.values()) * 0.0
        if "logits" in out:  # utterances without a categorical target (O/X kept for their A/V/D) add no term
            w = self.class_weights
            has = batch.y_soft.data.sum(-1) > 0
            if has.all():
                loss = loss + self.hparams.compute_cost(out["logits"], batch.y_soft.data, w)
            elif has.any():
                loss = loss + self.hparams.compute_cost(out["logits"][has], batch.y_soft.data[has], w)
        if "avd" in out:
            gold = batch.y_avd.data
            ok = torch.isfinite(gold).all(1)
            if ok.sum() > 1:
                loss = loss + self.hparams.attr_weight * ccc_loss(out["avd"][ok], gold[ok])
        hp = self.hparams
        # auxiliary classifiers: (output, target field, weight, loss); a target < 0 is unknown (no term)
        for name, field, weight, cost in (
                ("domain_logits", "y_domain", "domain_weight", F.cross_entropy),
                ("gender_logits", "y_gender", "gender_weight", F.cross_entropy),
                ("speaker_scores", "y_speaker", "speaker_weight", lambda s, y: hp.speaker_loss(s, y.unsqueeze(1)))):
            if name in out:
                y = getattr(batch, field).data.view(-1)
                ok = y >= 0
                if ok.any():
                    loss = loss + getattr(hp, weight) * cost(out[name][ok], y[ok])
        if stage != sb.Stage.TRAIN:
            self._collect(out, batch)
        return loss

    def _collect(self, out, batch):
        if "logits" in out:
            self.stats["refs"].append(batch.y_hard.data.view(-1).cpu())
            self.stats["preds"].append(out["logits"].argmax(-1).cpu())
            allowed = batch.y_allowed.data > 0  # each utterance's corpus's classes, as stage 4 scores it
            self.stats["restricted"].append(out["logits"].masked_fill(~allowed, float("-inf")).argmax(-1).cpu())
            self.stats["corpus"].append(batch.y_corpus.data.view(-1).cpu())
            scores = head_output(self.hparams.compute_cost)(out["logits"])  # what the loss trains
            self.stats["soft_mse"].append(((scores - batch.y_soft.data) ** 2).mean(-1).detach().cpu())
        if "avd" in out:
            self.stats["avd_pred"].append(out["avd"].detach().cpu())
            self.stats["avd_gold"].append(batch.y_avd.data.cpu())

    # ---- stages ---------------------------------------------------------------
    def on_stage_start(self, stage, epoch=None):
        self.stats = {k: [] for k in ("refs", "preds", "restricted", "corpus", "soft_mse", "avd_pred", "avd_gold")}
        if stage == sb.Stage.TRAIN:
            self.train_started, self.train_utterances = time.perf_counter(), 0
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        self.train_utterances += len(batch.id)

    def throughput(self) -> dict:
        """The training epoch's utterances per second (data loading included), and on CUDA its peak
        GPU memory in GiB: logged with the epoch's statistics."""
        secs = time.perf_counter() - self.train_started
        out = {"utt_per_s": round(self.train_utterances / secs, 2) if secs > 0 else 0.0}
        if str(self.device).startswith("cuda"):
            out["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated(self.device) / 2**30, 3)
        return out

    def summary(self) -> dict:
        s = {}
        if self.stats["refs"]:
            refs = torch.cat(self.stats["refs"]).numpy()
            preds = torch.cat(self.stats["preds"]).numpy()
            keep = refs >= 0
            s.update(metrics.classification(refs[keep], preds[keep], range(len(self.hparams.classes))))
            s["soft_mse"] = float(torch.cat(self.stats["soft_mse"]).mean())
            s["corpus_uar"] = metrics.mean_corpus_uar(refs[keep], torch.cat(self.stats["restricted"]).numpy()[keep],
                                                      torch.cat(self.stats["corpus"]).numpy()[keep])
        if self.stats["avd_pred"]:
            p, g = torch.cat(self.stats["avd_pred"]).numpy(), torch.cat(self.stats["avd_gold"]).numpy()
            ok = np.isfinite(g).all(1)
            cccs = [metrics.ccc(p[ok, i], g[ok, i]) for i in range(3)]
            s.update(ccc_a=cccs[0], ccc_v=cccs[1], ccc_d=cccs[2], ccc_mean=float(np.mean(cccs)))
        return s

    def on_fit_start(self):
        super().on_fit_start()  # a resumed run's fine-tuned layers: their statistics, not the cache's
        self.refresh_speaker_stats()

    def on_stage_end(self, stage, stage_loss, epoch=None):
        if stage == sb.Stage.TRAIN:
            self.train_loss = stage_loss
            self.train_speed = self.throughput()
            self.refresh_speaker_stats()  # validated and checkpointed with the statistics of these weights
            return
        stats = {"loss": stage_loss, **self.summary()}
        if stage == sb.Stage.VALID:
            # the scheduler wants a positive, lower-is-better value: 1 - score for max-mode keys
            value = stats[self.hparams.select_key]
            self.hparams.epoch_counter.update_metric(value)  # ``patience``: early stopping
            old_lr, new_lr = self.hparams.lr_annealing(1 - value if self.hparams.select_mode == "max" else value)
            for group in self.optimizer.param_groups:  # keep the upstream/head lr ratio
                group["lr"] *= new_lr / old_lr
            self.hparams.train_logger.log_stats({"epoch": epoch, "lr": old_lr},
                                                train_stats={"loss": self.train_loss, **self.train_speed},
                                                valid_stats=stats)
            key = {f"{self.hparams.select_mode}_keys": [self.hparams.select_key]}
            self.checkpointer.save_and_keep_only(meta=stats, num_to_keep=1, **key)
        else:
            self.hparams.train_logger.log_stats({"Epoch loaded": self.hparams.epoch_counter.current},
                                                test_stats=stats)
        self.last_stats = stats

    def init_optimizers(self):
        """Two learning rates: fine-tuned upstream layers and everything else."""
        up = [p for p in self.modules.upstream.parameters() if p.requires_grad]
        up_ids = {id(p) for p in up}
        rest = [p for p in self.modules.parameters() if p.requires_grad and id(p) not in up_ids]
        groups = [{"params": rest, "lr": self.hparams.lr}]
        if up:
            groups.append({"params": up, "lr": self.hparams.lr_upstream})
        self.optimizer = self.hparams.opt_class(groups)
        self.optimizers_dict = {"opt_class": self.optimizer}
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer", self.optimizer)

    def _train_loader_specifics(self, dataset, loader_kwargs):
        """SpeechBrain's, and a batch sampler (``sorting: buckets``) in one process is the sampler told
        each epoch (``set_epoch``), as it is under DDP through SpeechBrain's wrapper."""
        loader_kwargs = super()._train_loader_specifics(dataset, loader_kwargs)
        if self.train_sampler is None and hasattr(loader_kwargs.get("batch_sampler"), "set_epoch"):
            self.train_sampler = loader_kwargs["batch_sampler"]
        return loader_kwargs

    def _wrap_distributed(self):
        """SpeechBrain's DDP wrapping, minus SyncBatchNorm on CPU (gloo), where it cannot run."""
        if not (self.distributed_launch and self.device == "cpu"):
            return super()._wrap_distributed()
        from torch.nn.parallel import DistributedDataParallel as DDP

        for name, module in self.modules.items():
            if any(p.requires_grad for p in module.parameters()):
                self.modules[name] = DDP(module, find_unused_parameters=self.find_unused_parameters)
