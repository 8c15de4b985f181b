"""MSP-Podcast recipe on the tiny data: every hparams file, stages 0-5, seeds,
ensembles, easy/difficult analysis, submission files."""
import csv
import json
from pathlib import Path

import pytest

from conftest import ROOT, run

RECIPE = ROOT / "recipes" / "MSP-Podcast"
HPARAMS = sorted(p for p in (RECIPE / "hparams").glob("*.yaml") if p.name != "base.yaml")
TINY = {"wavlm": ("wavlm", "32", "3"), "wav2vec2": ("wav2vec2", "32", "3"), "mm_whisper_ccc": ("whisper-large-v3", "32", "3")}


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    """Stages 0-5 with the CPU default on the tiny data (2 epochs)."""
    e = tmp_path_factory.mktemp("msp") / "exp"
    r = run(["./run.sh", "--recipe", "MSP-Podcast", "--size", "tiny", "--exp-dir", str(e), "--",
             "--number_of_epochs", "2", "--max_seconds", "3.0"])
    assert r.returncode == 0, r.stderr[-3000:]
    (e / "stdout.txt").write_text(r.stdout)
    return e


def _kind(hp):
    for prefix, spec in TINY.items():
        if hp.stem.startswith(prefix):
            return spec
    return None


# in the default run: the multimodal system on CPU and one WavLM system with the secondary-emotion
# sampler; the CPU default whisper_tiny is trained, exported and scored by the `exp` fixture (stages
# 0-5, checked in test_stages_0_to_5); the others (same Brain, other losses/upstreams) and
# whisper_tiny's own debug run with ./tests/run.sh --long
DEFAULT_RUN = {"mm_whisper_tiny_ccc", "wavlm_kld_secondary_sampler"}


def make_tiny_text(out: Path, texts: list, hidden: int = 32, layers: int = 2, seed: int = 0) -> Path:
    """A tiny random RoBERTa with a word-level tokenizer built from ``texts``
    (stands in for ``roberta-large`` in debug runs of multimodal hparams)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, RobertaConfig, RobertaModel

    out = Path(out)
    torch.manual_seed(seed)
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["<pad>", "<unk>", "<s>", "</s>"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>",
                                   bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(out)
    cfg = RobertaConfig(vocab_size=tok.get_vocab_size(), hidden_size=hidden, num_hidden_layers=layers,
                        num_attention_heads=2, intermediate_size=2 * hidden, max_position_embeddings=160,
                        pad_token_id=0, bos_token_id=2, eos_token_id=3)
    RobertaModel(cfg).save_pretrained(out)
    return out


@pytest.mark.parametrize("hp", [p if p.stem in DEFAULT_RUN else pytest.param(p, marks=pytest.mark.long)
                                for p in HPARAMS], ids=[p.stem for p in HPARAMS])
def test_debug_run_of_every_hparams_file(hp, exp, tmp_path):
    from speechbrain_ser.models.tiny import make_tiny

    extra = []
    spec = _kind(hp)
    if spec:  # GPU system: the same loading code on a tiny random model of the same architecture
        kind, dim, layers = spec
        extra = ["--upstream_source", str(make_tiny(kind, tmp_path / "up")), "--encoder_dim", dim,
                 "--encoder_layers", layers, "--trainable_layers", "1"]
        if "mm_" in hp.stem:
            texts = [e["transcript"] for e in json.loads((exp / "data" / "labels" / "train.json").read_text()).values()]
            extra += ["--text_source", str(make_tiny_text(tmp_path / "text", texts)), "--text_dim", "32"]
    out = tmp_path / "run"
    py = str(ROOT / ".venv" / "bin" / "python")
    r = run([py, "-m", "speechbrain_ser.train", str(hp), "--labels_folder", str(exp / "data" / "labels"),
             "--data_root", str(ROOT / "data" / "synth_tiny"), "--output_folder", str(out),
             "--number_of_epochs", "2", "--batch_size", "4", "--max_seconds", "2.0", *extra])
    assert r.returncode == 0, r.stderr[-3000:]
    log = (out / "train_log.txt").read_text()
    assert "epoch: 2" in log
    has_attributes = "ccc" in hp.stem or hp.stem == "whisper_tiny"
    assert ("ccc_mean" in log) == has_attributes
    if not has_attributes:  # categorical-only systems share the evaluation path tested in test_stages_0_to_5
        return
    r = run([py, "-m", "speechbrain_ser.evaluate", "--task", "msp", "--train-dir", str(out),
             "--labels", str(exp / "data" / "labels"), "--data-root", str(ROOT / "data" / "synth_tiny")])
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "results" / "msp_metrics.csv").exists()
    # the exported model reads the training run's cut (2 s) and, for mm systems, takes transcripts
    import yaml
    exported = yaml.safe_load((tmp_path / "model" / "hyperparams.yaml").read_text().split("\nupstream:")[0])
    assert exported["max_seconds"] == 2.0 and exported["needs_transcript"] == ("mm_" in hp.stem)
    if hp.stem == "mm_whisper_tiny_ccc":  # the export is self-contained: moved, training run deleted
        import shutil

        from speechbrain_ser.inference import load

        moved = tmp_path / "elsewhere" / "model"
        shutil.move(str(tmp_path / "model"), str(moved))
        shutil.rmtree(out)
        text = (moved / "hyperparams.yaml").read_text()
        assert str(out) not in text and str(exp) not in text, "training paths in the exported hparams"
        wav = sorted((ROOT / "data" / "synth_tiny" / "MSP-Podcast" / "Audios").glob("*.wav"))[0]
        m = load(moved, savedir=tmp_path / "sb")
        a = m.predict_file(wav, text="I am so happy today")
        b = m.predict_file(wav, text="that is terrible news")
        assert set(a) >= {"arousal", "valence", "dominance"} and a != b  # the transcript is read
        assert not (moved / "tokenizer").exists() and not list(tmp_path.glob("**/*_char.model"))


def test_stages_0_to_5(exp):
    results = exp / "train" / "results"
    rows = list(csv.DictReader(open(results / "msp_metrics.csv")))
    dev = [r for r in rows if r["set"] == "dev"]
    assert {r["thresholds"] for r in dev} == {"argmax", "tuned on dev"}
    assert dev[0]["macro_f1"] and dev[0]["ccc_mean"]
    printed = (exp / "stdout.txt").read_text()
    assert "macro-F1" in printed and "mean CCC" in printed
    assert json.loads((results / "thresholds.json").read_text()).keys() == set("ASHUFDCN")
    for f in ("report/report.md", "report/confusion_dev.png", "report/env.json", "report/command.sh",
              "report/reliability.png"):
        assert (exp / f).stat().st_size > 0
    # the CPU default is WBCE (sigmoid head): calibration measured on normalised scores, no temperature
    report = (exp / "report" / "report.md").read_text()
    assert "## Calibration" in report and "no temperature is fitted" in report
    # emotion over time on test1/test2 shift files, windows cut to the debug model's 2 s crops
    assert "## Emotion over time" in report and "3 s windows every 1 s" in report
    assert (exp / "report" / "shift_timeline.png").exists()
    cal = {r["set"]: r for r in csv.DictReader(open(results / "calibration.csv"))}
    assert set(cal) == {"dev", "test1", "test2"} and cal["dev"]["temperature"] == "n/a"
    assert int(cal["dev"]["n_jsd"]) > 0 and 0 <= float(cal["dev"]["jsd_before"]) <= 1  # P votes exist
    card = (exp / "model" / "README.md").read_text()
    assert "## Results (stage 5" in card and "### Calibration" in card
    # the exported model reads the training run's cut (3 s here) and needs no transcripts
    import yaml
    exported = yaml.safe_load((exp / "model" / "hyperparams.yaml").read_text().split("\nupstream:")[0])
    assert exported["max_seconds"] == 3.0 and exported["needs_transcript"] is False


def test_submission_files(exp):
    results = exp / "train" / "results"
    test = json.loads((exp / "data" / "labels" / "test1.json").read_text())
    cat = list(csv.DictReader(open(results / "submission_categorical_test1.csv")))
    att = list(csv.DictReader(open(results / "submission_attributes_test1.csv")))
    assert [r["FileName"] for r in cat] == [r["FileName"] for r in att]
    assert {r["FileName"] for r in cat} == {f"{u}.wav" for u in test}
    assert {r["EmoClass"] for r in cat} <= set("ASHUFDCN")
    assert all(1 <= float(r[k]) <= 7 for r in att for k in ("EmoAct", "EmoVal", "EmoDom"))


def test_ensemble_seeds_and_easy_difficult(exp, tmp_path):
    import shutil

    from speechbrain_ser.msp.analyses import easy_difficult, ensemble, seeds_table
    from speechbrain_ser.msp.scoring import read_predictions

    labels = exp / "data" / "labels"
    # a second "system": the first one's predictions with shifted probabilities
    other = tmp_path / "sys2"
    shutil.copytree(exp / "train" / "results", other / "train" / "results")
    p = other / "train" / "results" / "predictions_dev.csv"
    rows = list(csv.DictReader(open(p)))
    for r in rows:
        r["p_N"] = f"{float(r['p_N']) + 0.2:.5f}"
        r["arousal"] = f"{float(r['arousal']) + 1:.4f}"
    with open(p, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "ens"
    ensemble([exp, other], out, labels)
    ids, probs, avd = read_predictions(out / "predictions_dev.csv")
    _, p1, a1 = read_predictions(exp / "train" / "results" / "predictions_dev.csv")
    assert probs[:, 7] == pytest.approx(p1[:, 7] + 0.1, abs=1e-4)
    assert avd[:, 0] == pytest.approx(a1[:, 0] + 0.5, abs=1e-3)
    assert (out / "msp_metrics.csv").exists()
    table = easy_difficult([exp, exp], labels)
    assert "| easy |" in table and "| difficult |" in table
    runs = tmp_path / "runs"
    for s in (0, 1):
        shutil.copytree(exp / "train" / "results", runs / f"sys_seed{s}" / "train" / "results")
    table = seeds_table(runs)
    assert "| dev | sys | argmax | 2 |" in table and "| test1 | sys | tuned on dev | 2 |" in table


def test_ox_policy(exp):
    from speechbrain_ser.datasets import make_dataset

    labels = exp / "data" / "labels"
    entries = json.loads((labels / "train.json").read_text())
    n_ox = sum(e["hard"] is None and sum(e["P"] or [0]) > 0 for e in entries.values())
    n_hard = sum(e["hard"] is not None for e in entries.values())
    hp = {"classes": list("ASHUFDCN"), "target_key": "P", "data_root": str(ROOT / "data" / "synth_tiny")}
    assert len(make_dataset(labels / "train.json", hp)) == n_hard
    assert len(make_dataset(labels / "train.json", {**hp, "keep_unlabelled": True})) == n_hard + n_ox
    assert n_ox > 0


def test_test3_blind_set_is_predicted_and_submitted(exp, tmp_path):
    """Test3 ships as Audios/MSP-PODCAST_test3_NNNN.wav without labels: stage 1 keeps it
    unlabelled, stage 2 gives it no targets, stage 4 predicts it and writes its submissions."""
    import shutil

    import yaml

    from speechbrain_ser.prepare import stage_labels, stage_manifests

    data = tmp_path / "data"
    shutil.copytree(ROOT / "data" / "synth_tiny" / "MSP-Podcast", data / "MSP-Podcast")
    wavs = sorted((data / "MSP-Podcast" / "Audios").glob("*.wav"))
    for i, w in enumerate(wavs[:3], 1):
        shutil.copy(w, w.parent / f"MSP-PODCAST_test3_{i:04d}.wav")
    stage_manifests(data, tmp_path / "manifests", ["msp_podcast"])
    cfg = yaml.safe_load((RECIPE / "conf" / "labels.yaml").read_text())
    stage_labels(cfg, tmp_path / "manifests", tmp_path / "labels")
    t3 = json.loads((tmp_path / "labels" / "test3.json").read_text())
    assert sorted(t3) == [f"MSP-PODCAST_test3_{i:04d}" for i in (1, 2, 3)]
    assert all(e["hard"] is None and e["P"] is None and e.get("avd01") is None for e in t3.values())
    out = tmp_path / "train"
    shutil.copytree(exp / "train", out)
    shutil.rmtree(out / "results")
    py = str(ROOT / ".venv" / "bin" / "python")
    r = run([py, "-m", "speechbrain_ser.evaluate", "--task", "msp", "--train-dir", str(out),
             "--labels", str(tmp_path / "labels"), "--data-root", str(data)])
    assert r.returncode == 0, r.stderr[-3000:]
    results = out / "results"
    cat = list(csv.DictReader(open(results / "submission_categorical_test3.csv")))
    att = list(csv.DictReader(open(results / "submission_attributes_test3.csv")))
    assert [x["FileName"] for x in cat] == [x["FileName"] for x in att] == [f"{u}.wav" for u in sorted(t3)]
    assert all(1 <= float(x["EmoVal"]) <= 7 for x in att)
    assert "test3" not in {x["set"] for x in csv.DictReader(open(results / "msp_metrics.csv"))}  # nothing to score
