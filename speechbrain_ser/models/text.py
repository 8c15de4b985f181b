"""Transcript encoders for the multimodal (speech + text) option.

* ``SentencePieceText`` (CPU): a SentencePiece model trained on the training
  transcripts (SpeechBrain's ``SentencePiece`` wrapper, on the stage-2 JSON) and a
  small encoder: embeddings → 1-layer bidirectional GRU → mean over tokens.
* ``HFText`` (GPU): a transformers text model by hub name or local directory
  (e.g. ``roberta-large``), frozen by default, mean-pooled last hidden state.

Both take a list of strings and return ``(B, output_size)``.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn


class SentencePieceText(nn.Module):
    """``model_dir`` + ``train_json``: train (or reuse) the tokenizer there, as in training. The
    tokenizer itself travels in the module's state (``get_extra_state``: the SentencePiece
    model's bytes), so an exported model needs neither: it is built with both None
    (``TRAINING_ONLY_ARGS``, nulled by the export) and gets its tokenizer, and the embedding
    size that goes with it, from ``text_encoder.ckpt``."""

    TRAINING_ONLY_ARGS = ("model_dir", "train_json")

    def __init__(self, model_dir=None, train_json=None, vocab_size: int = 200, dim: int = 64,
                 model_type: str = "unigram"):
        super().__init__()
        self.sp, n = None, 1
        if model_dir is not None:
            from speechbrain.tokenizers.SentencePiece import SentencePiece

            Path(model_dir).mkdir(parents=True, exist_ok=True)
            tok = SentencePiece(model_dir=str(model_dir), vocab_size=vocab_size,
                                annotation_train=str(train_json), annotation_read="transcript",
                                annotation_format="json", model_type=model_type,
                                character_coverage=1.0, bos_id=-1, eos_id=-1)
            self.sp = tok.sp
            n = self.sp.get_piece_size()
        self.dim = dim
        self.emb = nn.Embedding(n + 1, dim, padding_idx=n)
        self.rnn = nn.GRU(dim, dim // 2, batch_first=True, bidirectional=True)
        self.pad = n
        self.output_size = dim

    def get_extra_state(self):
        if self.sp is None:
            raise RuntimeError("SentencePieceText has no tokenizer to save (built without model_dir, never loaded)")
        return {"sentencepiece": self.sp.serialized_model_proto()}

    def set_extra_state(self, state):
        import sentencepiece as spm

        self.sp = spm.SentencePieceProcessor(model_proto=state["sentencepiece"])
        n = self.sp.get_piece_size()
        if n != self.pad:  # an exported model built without its tokenizer: size the embedding to it
            self.emb = nn.Embedding(n + 1, self.dim, padding_idx=n).to(self.emb.weight.device)
            self.pad = n

    def forward(self, texts):
        if self.sp is None:
            raise RuntimeError("SentencePieceText: no tokenizer (load the module's checkpoint first)")
        ids = [self.sp.encode_as_ids(t or "") or [self.pad] for t in texts]
        length = max(len(i) for i in ids)
        x = torch.full((len(ids), length), self.pad, dtype=torch.long, device=self.emb.weight.device)
        for k, i in enumerate(ids):
            x[k, : len(i)] = torch.tensor(i)
        mask = (x != self.pad).float().unsqueeze(-1)
        h, _ = self.rnn(self.emb(x))
        return (h * mask).sum(1) / mask.sum(1).clamp_min(1)


class HFText(nn.Module):
    def __init__(self, source, freeze: bool = True, max_tokens: int = 128):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(source)
        self.model = AutoModel.from_pretrained(source)
        self.freeze, self.max_tokens = freeze, max_tokens
        if freeze:
            self.model.requires_grad_(False)
        self.output_size = self.model.config.hidden_size

    def forward(self, texts):
        enc = self.tokenizer([t or "" for t in texts], padding=True, truncation=True,
                             max_length=self.max_tokens, return_tensors="pt").to(self.model.device)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
            h = self.model(**enc).last_hidden_state
        m = enc["attention_mask"].unsqueeze(-1).float()
        return (h * m).sum(1) / m.sum(1).clamp_min(1)
