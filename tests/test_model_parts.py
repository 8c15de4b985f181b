import numpy as np
import pytest
import torch

from speechbrain_ser import augment, losses, metrics
from speechbrain_ser.models.heads import DomainHead, MLP, Pooler, WeightedLayerSum


def test_gradient_reversal_flips_the_encoder_gradient():
    """The domain head's gradient reaching the encoder has the opposite sign (times the scale)."""
    torch.manual_seed(0)
    encoder = torch.nn.Linear(10, 8)
    head = DomainHead(8, 3, hidden=6, dropout=0.0, grl_scale=0.5)
    x, y = torch.randn(5, 10), torch.tensor([0, 1, 2, 1, 0])
    torch.nn.functional.cross_entropy(head(encoder(x)), y).backward()
    reversed_grad = encoder.weight.grad.clone()
    encoder.zero_grad()
    torch.nn.functional.cross_entropy(head.mlp(encoder(x)), y).backward()  # same head, no reversal
    plain_grad = encoder.weight.grad.clone()
    assert torch.allclose(reversed_grad, -0.5 * plain_grad, atol=1e-7)
    assert (reversed_grad * plain_grad).sum() < 0


def test_soft_ce_and_kld_hand_values():
    logits = torch.tensor([[0.0, np.log(3.0)]])          # softmax = [0.25, 0.75]
    t = torch.tensor([[0.5, 0.5]])
    assert losses.soft_ce(logits, t).item() == pytest.approx(-(0.5 * np.log(0.25) + 0.5 * np.log(0.75)))
    # KLD (CONILIUM eq. 3): sum over classes of y log(y/p), mean over utterances
    expect = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    assert losses.kld(logits, t).item() == pytest.approx(expect, rel=1e-5)
    # hard one-hot soft CE == torch cross entropy
    onehot = torch.tensor([[0.0, 1.0]])
    assert losses.soft_ce(logits, onehot).item() == pytest.approx(
        torch.nn.functional.cross_entropy(logits, torch.tensor([1])).item())


def test_metrics_against_hand_computed_values():
    # UAR averages recall over the classes in the references: a class only predicted adds nothing
    m = metrics.classification([0, 0, 1, 1], [0, 0, 1, 2], labels=[0, 1, 2])
    assert m["uar"] == pytest.approx((1.0 + 0.5) / 2)  # sklearn with labels=None gives 0.5
    # per-class F1 by hand: class 0 P=1 R=1 -> 1; class 1 P=1 R=0.5 -> 2/3; class 2 is not in the
    # references, so it adds no term (the prediction of it is class 1's error)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["weighted_f1"] == pytest.approx((2 * 1 + 2 * 2 / 3) / 4)
    assert m["accuracy"] == m["micro_f1"] == pytest.approx(3 / 4)
    # a class of the task absent from the references adds no term (the literature's macro-F1)
    m = metrics.classification([0, 1], [0, 1], labels=[0, 1, 2])
    assert m["macro_f1"] == pytest.approx(1.0) and m["uar"] == 1.0
    with pytest.raises(ValueError, match="outside the class set"):
        metrics.classification([0, 3], [0, 3], labels=[0, 1])


def test_restriction_keeps_predictions_in_the_allowed_set():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 7))
    allowed = [0, 2, 3, 5]
    preds = metrics.restrict(scores, allowed)
    assert set(preds) <= set(allowed)
    assert (preds == np.array(allowed)[scores[:, allowed].argmax(1)]).all()


def test_ccc_closed_form():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    assert metrics.ccc(a, a) == pytest.approx(1.0)
    assert metrics.ccc(a, a + 1) == pytest.approx(2 * a.var() / (2 * a.var() + 1))
    t = torch.tensor(np.stack([a, a[::-1].copy()], 1))
    got = losses.ccc(t, torch.tensor(np.stack([a, a], 1))).numpy()
    assert got[0] == pytest.approx(1.0) and got[1] == pytest.approx(-1.0)


def _batch():
    torch.manual_seed(1)
    x = torch.randn(4, 16000) * 0.1
    x[2, 12000:] = 0
    return x, torch.tensor([1.0, 1.0, 0.75, 1.0])


@pytest.mark.parametrize("t", [augment.Polarity(), augment.Gain(), augment.TimeReversal(), augment.Noise(),
                               augment.ResampleBack(), augment.Equalise(), augment.Echo()])
def test_each_transform_changes_signal_keeps_shape(t):
    x, lens = _batch()
    y = t(x, lens)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert not torch.allclose(y, x)


def test_polarity_and_reversal_exact():
    x, lens = _batch()
    assert torch.equal(augment.Polarity()(x, lens), -x)
    y = augment.TimeReversal()(x, lens)
    assert torch.equal(y[2, :12000], x[2, :12000].flip(0)) and torch.equal(y[2, 12000:], x[2, 12000:])


def test_independent_probabilities_and_seed():
    x, lens = _batch()
    assert torch.equal(augment.osman_suite(prob=0.0)(x, lens), x)
    torch.manual_seed(3)
    a = augment.osman_suite(prob=0.5)(x, lens)
    torch.manual_seed(3)
    b = augment.osman_suite(prob=0.5)(x, lens)
    assert torch.equal(a, b)
    # each transform fires independently with p: over many draws ~20% of utterances
    suite = augment.IndependentAugment([augment.Polarity()], prob=0.2)
    torch.manual_seed(0)
    xs = torch.ones(2000, 10)
    frac = (suite(xs, torch.ones(2000)) < 0).all(1).float().mean().item()
    assert frac == pytest.approx(0.2, abs=0.03)


def test_pooling_and_layer_sum_shapes():
    h = torch.randn(5, 3, 40, 16)
    x = WeightedLayerSum(5)(h)
    assert torch.allclose(x, h.mean(0), atol=1e-6)  # zero-initialised weights = mean
    p = Pooler(16)(x, torch.tensor([1.0, 0.5, 0.25]))
    assert p.shape == (3, 32)
    assert MLP(32, 7)(p).shape == (3, 7)


def test_statistics_pooling_is_the_mean_and_std_of_the_valid_frames():
    """``attention_channels=0``: no parameters; per utterance, the mean and the population standard
    deviation over its own frames only, by hand."""
    pool = Pooler(2, attention_channels=0)
    assert not list(pool.parameters())
    x = torch.tensor([[[1.0, 0.0], [3.0, 4.0], [5.0, 8.0], [7.0, 0.0]],
                      [[2.0, 1.0], [4.0, 3.0], [99.0, 99.0], [99.0, 99.0]]])  # the second: 2 frames, then padding
    out = pool(x, torch.tensor([1.0, 0.5]))
    # first: mean (4, 3), variance ((9+1+1+9)/4, (9+1+25+9)/4) = (5, 11); second: mean (3, 2), std (1, 1)
    expected = torch.tensor([[4.0, 3.0, 5 ** 0.5, 11 ** 0.5], [3.0, 2.0, 1.0, 1.0]])
    assert torch.allclose(out, expected, atol=1e-6)


def test_layer_weights_not_learned_stay_the_plain_mean():
    """The layer-weighting ablation (``learn_layer_weights: False``): the weights take no gradient, so
    after optimiser steps the sum is still the layers' mean; learned weights move."""
    torch.manual_seed(0)
    h = torch.randn(4, 2, 10, 8, requires_grad=True)   # as the head after it would make the loss need a gradient
    for learned in (False, True):
        ls = WeightedLayerSum(4, learned=learned)
        opt = torch.optim.Adam([p for p in ls.parameters() if p.requires_grad] or [torch.zeros(1, requires_grad=True)], lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (ls(h) * h[2].detach()).sum().backward()   # an objective that favours layer 2
            opt.step()
        assert ls.weights.requires_grad is learned
        assert torch.allclose(ls(h).detach(), h.mean(0).detach(), atol=1e-6) is (not learned)


def test_weighted_stats_backward_is_the_derivative():
    """The closed-form backward of the pooling statistics against finite differences (float64):
    frame weights without a gradient (the global context) and a softmax over time (attention)."""
    from speechbrain_ser.models.heads import weighted_stats

    torch.manual_seed(0)
    x = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    z = torch.randn(2, 6, 3, dtype=torch.float64, requires_grad=True)
    uniform = torch.tensor([[1.0] * 6, [1.0] * 4 + [0.0] * 2], dtype=torch.float64)[:, :, None]
    uniform = uniform / uniform.sum(1, keepdim=True)
    assert torch.autograd.gradcheck(lambda x: torch.cat(weighted_stats(x, uniform, 1e-12), 1), (x,))
    stats = lambda x, z: torch.cat(weighted_stats(x, torch.softmax(z, 1), 1e-12), 1)  # noqa: E731
    assert torch.autograd.gradcheck(stats, (x, z))  # one weight per frame and channel
    assert torch.autograd.gradcheck(stats, (x, z[:, :, :1].detach().requires_grad_()))  # one per frame


def test_layer_sum_reads_float16_views_and_matches_its_definition():
    """sum_l softmax(w)_l h_l, in float32, from the cache's (B, T, L, D) float16 layout seen as
    (L, B, T, D): value and gradient of the weights against the definition written out."""
    torch.manual_seed(0)
    feats = torch.randn(3, 20, 4, 8).half()  # (B, T, L, D) as the in-memory cache serves it
    ls = WeightedLayerSum(6, layers=[1, 2, 4, 5])
    with torch.no_grad():
        ls.weights.copy_(torch.tensor([0.3, -1.0, 2.0, 0.5]))
    x = ls(feats.permute(2, 0, 1, 3), selected=True)
    assert x.dtype == torch.float32 and x.shape == (3, 20, 8)
    f = feats.float()
    w = torch.exp(ls.weights.detach()) / torch.exp(ls.weights.detach()).sum()
    ref = w[0] * f[:, :, 0] + w[1] * f[:, :, 1] + w[2] * f[:, :, 2] + w[3] * f[:, :, 3]
    assert torch.allclose(x, ref, atol=1e-6)
    g = torch.randn_like(x)
    (x * g).sum().backward()
    dot = torch.stack([(g * f[:, :, i]).sum() for i in range(4)])  # dL/dsoftmax_l
    assert torch.allclose(ls.weights.grad, w * (dot - (w * dot).sum()), atol=1e-4)  # softmax Jacobian
    with torch.no_grad():  # inference: the same sum
        assert torch.allclose(ls(feats.permute(2, 0, 1, 3), selected=True), ref, atol=1e-6)
    # the upstream's stack (L, B, T, D), fine-tuned: the selected layers, and their gradients
    h = torch.randn(6, 3, 20, 8, requires_grad=True)
    x = ls(h)
    assert torch.allclose(x, (w[:, None, None, None] * h[[1, 2, 4, 5]]).sum(0), atol=1e-6)
    (x * g).sum().backward()
    assert torch.allclose(h.grad[[1, 2, 4, 5]], w[:, None, None, None] * g, atol=1e-6)
    assert not h.grad[[0, 3]].any()


def test_group_norm_ssl_upstream_is_batch_invariant_and_frozen_parts_stay_in_eval(tmp_path):
    """Base models (group-normalised feature encoder) see the padding whatever the mask: they
    run one utterance at a time; a frozen upstream never drops out, even in train mode."""
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    from speechbrain_ser.models.upstream import SSLUpstream

    cfg = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                         conv_dim=(32, 32), conv_stride=(5, 64), conv_kernel=(10, 64), num_conv_pos_embeddings=16,
                         num_conv_pos_embedding_groups=2, vocab_size=32, feat_extract_norm="group",
                         hidden_dropout=0.3, activation_dropout=0.3)
    torch.manual_seed(0)
    Wav2Vec2Model(cfg).save_pretrained(tmp_path / "m")
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000).save_pretrained(tmp_path / "m")
    up = SSLUpstream(str(tmp_path / "m"), kind="wav2vec2", save_path=str(tmp_path / "hub"))
    up.train()  # frozen: must behave as in eval anyway
    assert not up.ssl.model.training
    wavs = torch.randn(3, 16000)
    lens = torch.tensor([1.0, 0.6, 0.35])
    batch = up(wavs, lens)
    rel = up.output_lengths(wavs, lens)
    for i in range(3):
        n = int(round(float(lens[i]) * 16000))
        one = up(wavs[i:i + 1, :n], torch.ones(1))
        t = one.shape[2]
        assert round(float(rel[i]) * batch.shape[2]) == t
        assert (batch[:, i, :t] - one[:, 0]).abs().max() < 1e-4


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_pooler_equals_speechbrains_attentive_statistics_pooling(mode):
    """The factored, time-major pooling is SpeechBrain's ASP (global context): outputs, input
    gradients, parameter gradients and batch-norm statistics, on padded utterances."""
    import copy

    torch.manual_seed(0)
    ours = getattr(Pooler(16, attention_channels=8), mode)()
    ref = copy.deepcopy(ours)
    x = torch.randn(4, 30, 16) * 3 + 1
    lens = torch.tensor([1.0, 0.5, 0.7, 0.2])
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y = ours(x1, lens)
    t = x.shape[1]  # SpeechBrain's mask is arange(T) < lengths * T: give it whole frames minus a half
    y_ref = ref.asp(x2.transpose(1, 2), (torch.round(lens * t) - 0.5) / t).squeeze(-1)
    assert y.shape == (4, 32)
    assert torch.allclose(y, y_ref, atol=1e-5)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
    for (name, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-4, rtol=1e-4), name
    for a, b in zip(ours.buffers(), ref.buffers()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    # an utterance whose valid frames are all equal: its variance is clamped at eps, and
    # no gradient flows through the clamped std (SpeechBrain's clamp) in either pooling
    x = torch.randn(4, 30, 16)
    x[2, :21] = 0.5 + 1e-7 * torch.randn(21, 16)  # variance ~1e-14, under SpeechBrain's eps of 1e-12
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours.zero_grad(), ref.zero_grad()
    y, y_ref = ours(x1, lens), ref.asp(x2.transpose(1, 2), (torch.round(lens * t) - 0.5) / t).squeeze(-1)
    assert torch.allclose(y, y_ref, atol=1e-5)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
    for (name, a), (_, b) in zip(ours.named_parameters(), ref.named_parameters()):
        assert torch.allclose(a.grad, b.grad, atol=1e-4, rtol=1e-4), name
    # the padding never counts: an utterance's output is its own, alone
    alone = ours.eval()(x[1:2, :15], None)
    assert torch.allclose(ours(x, lens)[1], alone[0], atol=1e-5)


def test_one_copy_padding_is_speechbrains_batch_pad_right():
    """The collate's padding (``data.pad_right``) gives SpeechBrain's batch and relative lengths:
    features of different lengths (float16, 3-D), targets of one length, a batch of one, and
    items that differ beyond their first dimension (handed to SpeechBrain's)."""
    from speechbrain.dataio.batch import PaddedBatch
    from speechbrain.utils.data_utils import batch_pad_right

    from speechbrain_ser.datasets import pad_right

    torch.manual_seed(0)
    cases = [[torch.randn(n, 3, 4).half() for n in (7, 2, 5)],
             [torch.tensor([i]) for i in range(4)],
             [torch.randn(6)],
             [torch.randn(3, 2), torch.randn(5, 2)]]
    for tensors in cases:
        ours, ref = pad_right(tensors), batch_pad_right(tensors)
        assert ours[0].dtype == ref[0].dtype and torch.equal(ours[0], ref[0])
        assert torch.equal(ours[1], ref[1])
    with pytest.raises(OSError):  # other trailing shapes: SpeechBrain's error
        pad_right([torch.randn(3, 2), torch.randn(3, 4)])
    # as the collate: each key padded as SpeechBrain's own PaddedBatch pads it
    items = [{"feats": torch.randn(n, 2, 3), "y": torch.tensor([n])} for n in (4, 9, 1)]
    a, b = PaddedBatch(items, padding_func=pad_right), PaddedBatch(items)
    for key in ("feats", "y"):
        assert torch.equal(getattr(a, key).data, getattr(b, key).data)
        assert torch.equal(getattr(a, key).lengths, getattr(b, key).lengths)


def test_fusion_appends_the_utterance_vector_to_every_frame_and_layer():
    """``FusedUpstream``: the frames as they are, the utterance vector after them on every frame of
    every layer; after the (softmax-weighted) layer sum and the attentive pooling the vector is
    still itself (its mean) beside a zero standard deviation."""
    from speechbrain_ser.models.fusion import FusedUpstream

    class Frames(torch.nn.Module):
        n_layers, spec_augment = 3, None

        def forward(self, wavs, lens=None):
            return torch.stack([wavs[:, :40].reshape(wavs.shape[0], 10, 4) * (k + 1) for k in range(3)])

        def output_lengths(self, wavs, lens):
            return lens * 0.5

    class Vector(torch.nn.Module):
        def forward(self, wavs, lens=None):  # (1, B, 2, 2): the utterance's first sample and its mean
            v = torch.stack([wavs[:, 0], wavs.mean(1)], -1)
            return v[None, :, None].expand(1, -1, 2, -1)

    up = FusedUpstream(Frames(), Vector())
    wavs = torch.randn(2, 40)
    out = up(wavs, torch.ones(2))
    assert out.shape == (3, 2, 10, 6) and up.n_layers == 3
    for k in range(3):
        assert torch.equal(out[k, :, :, :4], wavs.reshape(2, 10, 4) * (k + 1))
    for b in range(2):
        assert torch.allclose(out[:, b, :, 4], wavs[b, 0].expand(3, 10))
        assert torch.allclose(out[:, b, :, 5], wavs[b].mean().expand(3, 10))
    assert torch.equal(up.output_lengths(wavs, torch.tensor([1.0, 0.5])), torch.tensor([0.5, 0.25]))
    up.spec_augment = "drop"
    assert up.frames.spec_augment == "drop" and up.spec_augment == "drop"
    ls = WeightedLayerSum(3)
    with torch.no_grad():
        ls.weights.copy_(torch.tensor([0.5, -1.0, 2.0]))
    pooled = Pooler(6)(ls(out), torch.ones(2))  # (B, 12): means then standard deviations
    assert torch.allclose(pooled[:, 4:6], torch.stack([wavs[:, 0], wavs.mean(1)], -1), atol=1e-5)
    assert torch.allclose(pooled[:, 10:12], torch.zeros(2, 2), atol=1e-3)


def test_only_layer_is_that_hidden_state_alone_with_or_without_speaker_statistics():
    """``only_layer: k`` (the per-layer ablation on an all-layer cache): the sum is hidden state k
    itself (standardised by its own statistics under speaker normalisation), and nothing is learned."""
    torch.manual_seed(0)
    h = torch.randn(4, 2, 5, 3)
    ls = WeightedLayerSum(4, only=2)
    assert not ls.weights.requires_grad
    assert torch.equal(ls(h), h[2])
    mean, std = torch.randn(2, 4, 3), torch.rand(2, 4, 3) + 0.5
    want = (h[2] - mean[:, 2, None, :]) / std[:, 2, None, :]
    assert torch.allclose(ls(h, speaker_stats=torch.stack([mean, std], 1)), want, atol=1e-6)
    assert torch.equal(WeightedLayerSum(4, only=-1)(h), h[3])
    with pytest.raises(ValueError, match="only_layer 4 does not exist"):
        WeightedLayerSum(4, only=4)
