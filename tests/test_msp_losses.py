"""MSP-Podcast losses, samplers and post-processing against hand-computed values."""
import numpy as np
import pytest
import torch

from speechbrain_ser import losses
from speechbrain_ser.msp.postprocess import apply_offsets, tune_offsets
from speechbrain_ser import metrics

LOGITS = torch.tensor([[0.0, np.log(3.0)]])    # softmax [0.25, 0.75]; sigmoid [0.5, 0.75]
T = torch.tensor([[0.5, 0.5]])
W = torch.tensor([2.0, 0.5])


def test_ce_and_wce():
    onehot = torch.tensor([[1.0, 0.0]])
    assert losses.soft_ce(LOGITS, onehot).item() == pytest.approx(-np.log(0.25))
    assert losses.wce(LOGITS, onehot, W).item() == pytest.approx(-2.0 * np.log(0.25))  # CONILIUM eq. 1


def test_bce_and_wbce():
    s = np.array([0.5, 0.75])
    per = -(0.5 * np.log(s) + 0.5 * np.log(1 - s))
    assert losses.bce(LOGITS, T).item() == pytest.approx(per.sum(), rel=1e-5)
    assert losses.wbce(LOGITS, T, W).item() == pytest.approx((W.numpy() * per).sum(), rel=1e-5)  # eq. 2


def test_kld_is_a_per_utterance_sum():
    # KL([0.5, 0.5] || [0.25, 0.75]) summed over classes, averaged over utterances (batchmean)
    kl = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    assert losses.kld(LOGITS, T).item() == pytest.approx(kl, rel=1e-5)
    two = torch.cat([LOGITS, LOGITS]), torch.cat([T, torch.tensor([[0.0, 1.0]])])
    assert losses.kld(*two).item() == pytest.approx((kl + np.log(1 / 0.75)) / 2, rel=1e-5)
    ref = torch.nn.functional.kl_div(torch.log_softmax(two[0], -1), two[1], reduction="batchmean")
    assert losses.kld(*two).item() == pytest.approx(ref.item(), rel=1e-6)


def _optimum(loss, y, w):
    """The sigmoid output minimising ``loss`` for one class with soft target y (grid search)."""
    z = torch.linspace(-6, 6, 24001).view(-1, 1)
    vals = torch.stack([loss(z[i:i + 1], torch.tensor([[y]]), torch.tensor([w])) for i in range(0, len(z), 1)])
    return torch.sigmoid(z[vals.argmin()]).item()


def test_wbce_weights_leave_the_optimum_pos_weight_moves_it():
    y, w = 0.2, 4.0
    assert _optimum(losses.wbce, y, w) == pytest.approx(y, abs=1e-3)          # both terms weighted
    assert _optimum(losses.wbce_pos, y, w) == pytest.approx(w * y / (w * y + 1 - y), abs=1e-3)  # 0.5


def test_heads_are_read_through_their_losses_output_function():
    import functools

    z = torch.tensor([[0.0, np.log(3.0)]])
    assert losses.head_output(losses.bce)(z).tolist()[0] == pytest.approx([0.5, 0.75])
    assert losses.head_output(functools.partial(losses.wbce, weights=None))(z).tolist()[0] == pytest.approx([0.5, 0.75])
    assert losses.head_output(losses.kld)(z).tolist()[0] == pytest.approx([0.25, 0.75])
    assert losses.head_output(losses.mse)(z).tolist()[0] == pytest.approx([0.0, np.log(3.0)])


def test_mse_and_mse_softmax():
    assert losses.mse(LOGITS, T).item() == pytest.approx(((0 - 0.5) ** 2 + (np.log(3) - 0.5) ** 2) / 2, rel=1e-5)
    assert losses.mse_softmax(LOGITS, T).item() == pytest.approx((0.25 ** 2 + 0.25 ** 2) / 2, rel=1e-5)


def test_ccc_loss_direct_formula():
    rng = np.random.default_rng(0)
    p, g = rng.normal(size=(30, 3)), rng.normal(size=(30, 3))
    direct = []
    for i in range(3):
        x, y = p[:, i], g[:, i]
        cov = np.mean((x - x.mean()) * (y - y.mean()))
        direct.append(2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2))
    got = losses.ccc_loss(torch.tensor(p), torch.tensor(g)).item()
    assert got == pytest.approx(1 - np.mean(direct), rel=1e-5)
    assert metrics.ccc(p[:, 0], g[:, 0]) == pytest.approx(direct[0])


def test_inverse_frequency_weights():
    w = losses.inverse_frequency([0, 0, 0, 1], 3)
    assert w.tolist() == pytest.approx([4 / 9, 4 / 3, 0.0])


def test_threshold_tuning_raises_dev_macro_f1():
    """A model biased to the majority class: offsets tuned on dev recover the minority classes."""
    rng = np.random.default_rng(0)
    refs = rng.choice(3, size=300, p=[0.6, 0.25, 0.15])
    logits = rng.normal(0, 1, (300, 3))
    logits[np.arange(300), refs] += 1.5     # informative ...
    logits[:, 0] += 2.0                      # ... but biased to class 0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    before = metrics.classification(refs, probs.argmax(1), range(3))["macro_f1"]
    off = tune_offsets(probs, refs, "softmax")
    after = metrics.classification(refs, apply_offsets(probs, off, "softmax"), range(3))["macro_f1"]
    assert after > before + 0.1
    assert off[1] > off[0] and off[2] > off[0]


def test_samplers_balance_and_undersample():
    import speechbrain as sb

    from speechbrain_ser.samplers import class_balanced, undersampler

    data = {f"u{i}": {"hard": "N" if i < 80 else ("H" if i < 95 else "A")} for i in range(100)}
    ds = sb.dataio.dataset.DynamicItemDataset(data)
    ds.set_output_keys(["id", "hard"])
    drawn = [data[ds[i]["id"]]["hard"] for i in list(class_balanced(ds, seed=0))]
    share = {c: drawn.count(c) / len(drawn) for c in "NHA"}
    assert all(abs(v - 1 / 3) < 0.12 for v in share.values()), share
    us = undersampler(ds, seed=0)
    assert us.cap == 15 and len(us) == 15 + 15 + 5
    e1, e2 = us.indices(), us.indices()
    assert len(e1) == len(e2) == 35 and set(e1) != set(e2)          # a fresh subset each epoch
    assert sum(data[f"u{i}"]["hard"] == "A" for i in e1) == 5        # minority class kept whole
