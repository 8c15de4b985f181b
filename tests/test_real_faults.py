"""Faults that the embedded data never showed and real copies do (issue 18), one test per item.

Fixtures use the real releases' file names; the audio is a short tone (names, folders and
formats are what matter here)."""
import numpy as np
import pytest
import soundfile as sf
import torch

from speechbrain_ser.corpora.base import AUDIO_EXTENSIONS
from speechbrain_ser.inference import Recognizer
from speechbrain_ser.labels.targets import assign_splits
from speechbrain_ser.models.heads import WeightedLayerSum, _layer_sum
from test_real_layouts import _msp_copy, make, read


# ---- item 2: layer weights must match the upstream's hidden states ---------------------------

def test_layer_weights_that_do_not_match_the_upstream_fail_clearly():
    ls = WeightedLayerSum(5)
    ls.check(5)
    with pytest.raises(ValueError, match="encoder_layers is 5 but the upstream returns 13 hidden states"):
        ls.check(13)
    with pytest.raises(ValueError, match="5 layer weights for 13 hidden states"):
        _layer_sum(torch.softmax(ls.weights, 0), torch.randn(13, 2, 3, 4))
    with pytest.raises(ValueError, match=r"upstream_layers \[13\] do not exist"):
        WeightedLayerSum(13, layers=[2, 13]).check(13)


# ---- item 3: MESD split by word, every voice type in every split --------------------------------

def test_stage2_splits_mesd_by_word_with_every_voice_type_in_every_split(tmp_path):
    """Through stage 1 and stage 2 (not ``assign_splits`` called by hand): MESD's file names name only
    the voice type (F, M, child), so stage 2 splits it by word: every split holds every voice type and
    a word's recordings never span two splits."""
    import json

    from speechbrain_ser.prepare import stage_labels, stage_manifests

    words = [f"palabra{i:02d}" for i in range(20)]
    files = [f"Mexican Emotional Speech Database (MESD)/{emo}_{v}_{'A' if i < 10 else 'B'}_{w}.wav"
             for i, w in enumerate(words) for v in "FMC" for emo in ("Anger", "Neutral")]
    root = make(tmp_path, "mesd", files)
    stage_manifests(root.parent, tmp_path / "manifests", ["mesd"])
    import yaml

    from conftest import ROOT

    config = yaml.safe_load((ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml").read_text())
    config.update(corpora=["mesd"], held_out=[])
    stage_labels(config, tmp_path / "manifests", tmp_path / "labels")
    summary = json.loads((tmp_path / "labels" / "summary.json").read_text())
    assert summary["corpora"]["mesd"]["split_by"].startswith("transcript"), summary["corpora"]["mesd"]
    entries = {}
    for s in ("train", "dev", "test"):
        entries.update({u: dict(e, split=s) for u, e in
                        json.loads((tmp_path / "labels" / f"{s}.json").read_text()).items()})
    assert len(entries) == len(files)
    voices = {s: {e["speaker"] for e in entries.values() if e["split"] == s} for s in ("train", "dev", "test")}
    assert all(v == {"mesd_F", "mesd_M", "mesd_C"} for v in voices.values()), voices
    split_of_word = {}
    for e in entries.values():  # a word's recordings stay in one split
        assert split_of_word.setdefault(e["transcript"], e["split"]) == e["split"]


# ---- item 4: unknown speakers ------------------------------------------------------------------

def test_unknown_speakers_are_no_speaker_class_and_are_split_one_by_one():
    from speechbrain_ser.datasets import domains_of

    entries = {f"k{i}": {"speaker": f"s{i % 6}", "split": None} for i in range(60)}
    entries.update({f"u{i}": {"speaker": None, "split": None} for i in range(400)})
    assert domains_of(entries, "speaker") == [f"s{i}" for i in range(6)]
    assign_splits(entries, 0.15, 0.2, 0)
    unknown = [e["split"] for k, e in entries.items() if k.startswith("u")]
    share = {s: unknown.count(s) / len(unknown) for s in ("train", "dev", "test")}
    # one giant "unknown" speaker would land whole in one split; one by one they follow the fractions
    assert abs(share["test"] - 0.2) < 0.06 and abs(share["dev"] - 0.15) < 0.06, share
    known = {}
    for k, e in entries.items():
        if e["speaker"] is not None:
            assert known.setdefault(e["speaker"], e["split"]) == e["split"]


def test_msp_unknown_speaker_has_no_speaker_id(tiny_root, tmp_path):
    root = _msp_copy(tiny_root, tmp_path)
    cons = root / "Labels" / "labels_consensus.csv"
    lines = cons.read_text().splitlines()
    col = lines[0].split(",").index("SpkrID")
    cells = lines[1].split(",")
    cells[col] = "Unknown"
    lines[1] = ",".join(cells)
    cons.write_text("\n".join(lines) + "\n")
    m, _ = read(root, "msp_podcast")
    uid = cells[0].rsplit(".", 1)[0]
    assert m[uid]["speaker"] is None
    assert all(e["speaker"] is None or not e["speaker"].startswith("msp_unknown") for e in m.values())


# ---- items 13 and 14: audio formats; another part of a release -------------------------------------

def test_every_soundfile_format_is_read_by_every_file_name_reader(tmp_path):
    assert {".wav", ".flac", ".aiff", ".ogg"} <= set(AUDIO_EXTENSIONS)
    root = make(tmp_path, "ravdess", ["Actor_18/03-01-05-01-02-01-18.flac", "Actor_18/03-01-01-01-01-01-18.FLAC",
                                      "Actor_18/03-01-03-01-01-01-18.wav"])
    m, rej = read(root, "ravdess", max_reject=0.0)
    assert len(m) == 3 and not rej
    assert m["ravdess_03-01-05-01-02-01-18"]["wav"].endswith(".flac")
    # CaFE's 192 kHz release is AIFF
    cafe = make(tmp_path, "cafe", ["Colère/Faible/01-C-1-1.aiff", "Neutre/01-N-1.aiff"])
    m, rej = read(cafe, "cafe", max_reject=0.0)
    assert sorted(m) == ["cafe_01-C-1-1", "cafe_01-N-1"] and not rej
    urdu = make(tmp_path, "urdu", ["Angry/SM1_F1_A01.flac", "Sad/SF3_F10_S07.flac"])
    m, rej = read(urdu, "urdu", max_reject=0.0)
    assert len(m) == 2 and not rej


def test_label_file_readers_find_a_flac_copy(tiny_root, tmp_path):
    root = _msp_copy(tiny_root, tmp_path)
    for w in list((root / "Audios").glob("*.wav"))[:5]:
        x, sr = sf.read(w)
        sf.write(w.with_suffix(".flac"), x, sr)
        w.unlink()
    m, rej = read(root, "msp_podcast", max_reject=0.0)
    assert sum(e["wav"].endswith(".flac") for e in m.values()) == 5 and not [r for r in rej.values() if r.counts]


def test_ravdess_song_files_are_skipped_not_counted(tmp_path):
    speech = [f"Audio_Speech_Actors_01-24/Actor_{a:02d}/03-01-0{e}-01-01-01-{a:02d}.wav"
              for a in (1, 2) for e in range(1, 9)]
    song = [f"Audio_Song_Actors_01-24/Actor_{a:02d}/03-02-0{e}-01-01-01-{a:02d}.wav"
            for a in (1, 2) for e in (1, 2, 3, 4, 5, 6)]
    root = make(tmp_path, "ravdess", speech + song)
    m, rej = read(root, "ravdess", max_reject=0.05)   # 12 of 28 files: over the limit if counted
    assert len(m) == 16
    assert len(rej) == 12 and not any(r.counts for r in rej.values())
    assert all(r.reason.startswith("skipped:") and "song" in r.reason for r in rej.values())


# ---- item 5: leave-one-language-out holds out every utterance of the language --------------------

def test_held_out_language_is_out_of_training_in_every_corpus():
    from speechbrain_ser.labels.targets import unified_targets

    def esd(i, lang):
        return {"language": lang, "speaker": f"esd_{i % 4 + (0 if lang == 'zh' else 10):04d}", "split": "train",
                "native": "Angry", "intensity": None, "corpus": "esd"}

    manifests = {"esd": {f"z{i}": esd(i, "zh") for i in range(8)} | {f"e{i}": esd(i, "en") for i in range(8)}}
    out, summary = unified_targets(manifests, {"held_out_languages": ["zh"]})
    splits = {k: e["split"] for k, e in out["esd"].items()}
    assert all(splits[f"z{i}"] == "zeroshot" for i in range(8))
    assert all(splits[f"e{i}"] == "train" for i in range(8))
    assert "8 utterances in held-out languages" in summary["corpora"]["esd"]["split_by"]


def test_lolo_sh_takes_esd_mandarin_out_of_training(tmp_path):
    from conftest import ROOT, run

    r = run([str(ROOT / "recipes/Multilingual16/lolo.sh"), "--size", "tiny", "--languages", "zh",
             "--stop-stage", "2", "--out", str(tmp_path)])
    assert r.returncode == 0, r.stderr[-2000:]
    import json

    labels = tmp_path / "zh" / "data" / "labels"
    for name in ("train", "dev", "test"):
        entries = json.loads((labels / f"{name}.json").read_text())
        assert not [u for u, e in entries.items() if e["language"] == "zh"], name
    # (the tiny ESD has Mandarin speakers only; ESD's English half staying in training is the unit test above)
    zs = json.loads((labels / "zeroshot_esd.json").read_text())
    assert zs and all(e["language"] == "zh" for e in zs.values())
    assert (labels / "zeroshot_casia.json").exists()
    assert not [p for p in labels.glob("zeroshot_*.json") if p.stem not in ("zeroshot_esd", "zeroshot_casia")]


# ---- item 6: attribute-only systems train on O/X utterances' A/V/D ------------------------------

def test_attribute_only_systems_keep_ox_utterances_with_keep_unlabelled(tmp_path):
    import json

    from speechbrain_ser.datasets import make_dataset

    base = {"wav": "{data_root}/x.wav", "duration": 1.0, "corpus": "msp_podcast", "speaker": None, "gender": "F"}
    entries = {"a": dict(base, hard="A", ox=None, P=[1.0] + [0.0] * 7, avd01=[0.5, 0.5, 0.5]),
               "o": dict(base, hard=None, ox="O", P=None, avd01=[0.2, 0.3, 0.4]),     # no annotator detail
               "x": dict(base, hard=None, ox="X", P=[0.5, 0.5] + [0.0] * 6, avd01=None),
               "t3": dict(base, hard=None, ox=None, P=None, avd01=None)}                # Test3: nothing to train
    path = tmp_path / "train.json"
    path.write_text(json.dumps(entries))
    hp = {"classes": list("ASHUFDCN"), "data_root": str(tmp_path), "max_seconds": None, "target_key": "P"}
    attr_only = dict(hp, head=None, avd_heads=object())
    cat_only = dict(hp, head=object(), avd_heads=None)
    ids = lambda h: sorted(make_dataset(path, h).data_ids)  # noqa: E731
    assert ids(dict(attr_only, keep_unlabelled=True)) == ["a", "o"]
    assert ids(dict(attr_only, keep_unlabelled=False)) == ["a"]
    assert ids(dict(cat_only, keep_unlabelled=True)) == ["a", "x"]
    assert ids(dict(cat_only, keep_unlabelled=False)) == ["a"]
    both = dict(hp, head=object(), avd_heads=object(), keep_unlabelled=True)
    assert ids(both) == ["a", "o", "x"]


def test_rows_without_a_categorical_target_add_no_categorical_loss():
    """An O/X row kept for its A/V/D has an all-zero soft target: it must not pull an MSE head to 0."""
    import types

    from speechbrain_ser import losses
    from speechbrain_ser.brains.emotion import EmotionBrain

    logits = torch.tensor([[2.0, 0.0], [5.0, -5.0]])
    y = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    brain = types.SimpleNamespace(hparams=types.SimpleNamespace(compute_cost=losses.mse), class_weights=None)
    batch = types.SimpleNamespace(y_soft=types.SimpleNamespace(data=y))
    out = {"emb": torch.zeros(2, 3), "logits": logits}
    import speechbrain as sb

    got = EmotionBrain.compute_objectives(brain, out, batch, sb.Stage.TRAIN)
    assert got.item() == pytest.approx(losses.mse(logits[:1], y[:1]).item())


# ---- item 7: an IEMOCAP evaluator line with several categories is a split vote ---------------------

def test_iemocap_unranked_categories_split_the_evaluators_vote(tmp_path):
    from speechbrain_ser.labels.targets import unified_targets
    from speechbrain_ser.labels.votes import primary_distribution
    from test_real_layouts import IEMOCAP_EVAL

    root = make(tmp_path, "iemocap", ["Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
                                      "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav"],
                {"Session1/dialog/EmoEvaluation/Ses01F_impro01.txt": IEMOCAP_EVAL})
    m, _ = read(root, "iemocap")
    # F001: C-E1 "Frustration; Anger;" (split 1/2-1/2), C-E3 "Frustration;", C-E4 "Neutral;"
    out, _ = unified_targets({"iemocap": m}, {"neutral_smoothing": False})
    e = out["iemocap"]["iemocap_Ses01F_impro01_F001"]
    space = ["neutral", "happiness", "sadness", "anger", "fear", "disgust", "surprise", "other"]
    raw = dict(zip(space, e["target_raw"]))
    # fru -> 0.6 anger + 0.4 sadness; ang -> anger; neu -> neutral; three evaluators of weight 1
    assert raw["anger"] == pytest.approx((0.5 * 0.6 + 0.5 * 1.0 + 0.6) / 3, abs=1e-6)   # 0.4667
    assert raw["sadness"] == pytest.approx((0.5 * 0.4 + 0.4) / 3, abs=1e-6)           # 0.2
    assert raw["neutral"] == pytest.approx(1 / 3, abs=1e-6)
    # the same rule in P over a native space: neu 1/3, fru 1/2, ang 1/6
    P = primary_distribution([v["primary"] for v in e["votes"]], ["neu", "fru", "ang"])
    np.testing.assert_allclose(P, [1 / 3, 0.5, 1 / 6])


# ---- item 8: A/V/D normalised from each corpus's own scale -------------------------------------------

def test_avd_targets_use_each_corpus_scale():
    from speechbrain_ser.labels.targets import LabelConfigError, msp_targets, unified_targets

    def entry(avd):
        return {"language": "en", "speaker": "s1", "split": "train", "native": "neu", "avd": avd,
                "corpus": "iemocap", "intensity": None}

    iemocap = {"a": entry([5.0, 3.0, 1.0])}              # IEMOCAP rates on 1-5
    out, _ = msp_targets(dict(iemocap), {}, "iemocap")
    assert out["a"]["avd01"] == [1.0, 0.5, 0.0]           # (x - 1) / 6 gave [0.667, 0.333, 0]
    out, _ = unified_targets({"iemocap": iemocap}, {})
    assert out["iemocap"]["a"]["avd01"] == [1.0, 0.5, 0.0]
    msp = {"b": dict(entry([7.0, 4.0, 1.0]), native="N", corpus="msp_podcast")}
    out, _ = msp_targets(msp, {}, "msp_podcast")
    assert out["b"]["avd01"] == [1.0, 0.5, 0.0]
    with pytest.raises(LabelConfigError, match="declares no AVD_SCALE"):
        msp_targets({"c": dict(entry([3, 3, 3]), native="angry")}, {}, "ravdess")


# ---- item 9: metric conventions ---------------------------------------------------------------

def test_macro_f1_averages_over_the_classes_in_the_references():
    from speechbrain_ser import metrics

    # perfect predictions on 2 of a 3-class inventory: macro-F1 over the references' classes is 1.0
    m = metrics.classification([0, 0, 1], [0, 0, 1], labels=[0, 1, 2])
    assert m["macro_f1"] == pytest.approx(1.0) and m["micro_f1"] == pytest.approx(1.0)
    # a prediction of the absent class is still an error of the reference's class:
    # class 0: P = 1, R = 1/2, F1 = 2/3; class 1: F1 = 1 -> (2/3 + 1) / 2
    m = metrics.classification([0, 0, 1], [0, 2, 1], labels=[0, 1, 2])
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    # scikit-learn's default would average over references and predictions: (2/3 + 1 + 0) / 3
    from sklearn.metrics import f1_score

    assert f1_score([0, 0, 1], [0, 2, 1], average="macro") == pytest.approx((2 / 3 + 1 + 0) / 3)
    text = metrics.DEFINITIONS["macro_f1"]
    assert "scikit-learn's default" in text and "literature" not in text


def test_majority_baseline_hand_computed():
    from speechbrain_ser import metrics

    b = metrics.majority_baseline([0, 0, 0, 1], labels=[0, 1, 2])
    assert b["accuracy"] == pytest.approx(0.75) and b["uar"] == pytest.approx(0.5)
    # class 0: P = 3/4, R = 1 -> F1 = 6/7; class 1: 0 -> macro-F1 3/7
    assert b["macro_f1"] == pytest.approx(3 / 7)


def test_iemocap_four_class_protocol_rows():
    from speechbrain_ser.corpora.iemocap import session_splits
    from speechbrain_ser.zero_shot import score_groups

    space = ["neutral", "happiness", "sadness", "anger", "fear", "disgust", "surprise", "other"]
    natives = ["neu", "hap", "exc", "sad", "ang", "fru"]
    hard = ["neutral", "happiness", "happiness", "sadness", "anger", "anger"]
    entries = {f"u{i}": {"corpus": "iemocap", "language": "en", "native": n, "hard": h}
               for i, (n, h) in enumerate(zip(natives, hard))}
    probs = np.full((6, 8), 0.01)
    # predicted: neutral, happiness, surprise (-> best of the 4 protocol classes: sadness), sadness, anger, anger
    for i, (c, alt) in enumerate([(0, None), (1, None), (6, 2), (2, None), (3, None), (3, None)]):
        probs[i, c] = 0.9
        if alt is not None:
            probs[i, alt] = 0.5
    inventory = {"iemocap": [0, 1, 2, 3, 4, 5, 6]}
    rows = {(r["level"], r["name"]): r for r in score_groups(entries, list(entries), probs, space, inventory)}
    p = rows[("protocol", "iemocap_4class")]
    # fru is outside the protocol: 5 utterances, exc scored as happiness and predicted sadness -> 4/5 correct
    assert p["n"] == 5 and p["n_classes"] == 4 and p["accuracy"] == pytest.approx(0.8)
    # recalls: neutral 1, happiness 1/2, sadness 1, anger 1
    assert p["uar"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert session_splits(3) == {"Session1": "train", "Session2": "dev", "Session3": "test",
                                 "Session4": "train", "Session5": "train"}
    assert session_splits(1)["Session5"] == "dev" and session_splits()["Session5"] == "test"


def test_speaker_dependent_test_sets_are_marked():
    from speechbrain_ser.labels.targets import speakers_seen

    tess = {"a": {"speaker": "OAF", "split": "train"}, "b": {"speaker": "YAF", "split": "train"},
            "c": {"speaker": "OAF", "split": "test"}, "d": {"speaker": "YAF", "split": "test"}}
    assert speakers_seen(tess) == 1.0
    indep = {"a": {"speaker": "s1", "split": "train"}, "c": {"speaker": "s2", "split": "test"},
             "d": {"speaker": None, "split": "test"}}
    assert speakers_seen(indep) == 0.0


# ---- item 11: labels_detailed.csv in its one-column EmoDetail form --------------------------------

def test_msp_detailed_labels_in_both_csv_forms_and_unknown_headers(tiny_root, tmp_path):
    import csv

    from speechbrain_ser.corpora.base import CorpusError

    root = _msp_copy(tiny_root, tmp_path)
    labels = root / "Labels"
    (labels / "labels_detailed.json").unlink()           # the CSV alone must do
    ref, _ = read(root, "msp_podcast")
    with open(labels / "labels_detailed.csv") as f:
        rows = list(csv.DictReader(f))
    with open(labels / "labels_detailed.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "EmoDetail"])
        for r in rows:
            w.writerow([r["FileName"], f"{r['WorkerID']}; {r['EmoClass_Major']}; {r['EmoClass_Second']}; "
                                       f"A:{r['EmoAct']}; V:{r['EmoVal']}; D:{r['EmoDom']};"])
    got, _ = read(root, "msp_podcast")
    assert {k: e["votes"] for k, e in got.items()} == {k: e["votes"] for k, e in ref.items()}
    assert sum(bool(e["votes"]) for e in got.values()) > 10
    # a malformed cell names file and line
    text = (labels / "labels_detailed.csv").read_text().splitlines()
    text[3] = text[3].split(",")[0] + ",WORKER1; Happy; A:3;"
    (labels / "labels_detailed.csv").write_text("\n".join(text) + "\n")
    with pytest.raises(CorpusError, match=r"labels_detailed.csv:4: EmoDetail"):
        read(root, "msp_podcast")
    # an unknown header: an error naming the columns, or the JSON when there is one
    (labels / "labels_detailed.csv").write_text("File,Annotator,Label\nx.wav,W1,Happy\n")
    with pytest.raises(CorpusError, match=r"unknown header \['File', 'Annotator', 'Label'\]"):
        read(root, "msp_podcast")
    import shutil

    shutil.copy(tiny_root / "MSP-Podcast" / "Labels" / "labels_detailed.json", labels)
    got, _ = read(root, "msp_podcast")
    assert {k: e["votes"] for k, e in got.items()} == {k: e["votes"] for k, e in ref.items()}


# ---- item 12: stage 1 does not read every byte of the non-audio files --------------------------------

def test_stage1_fingerprint_reads_label_files_not_videos(tmp_path, monkeypatch):
    import os
    from pathlib import Path

    from speechbrain_ser.stage import tree_fingerprint

    root = tmp_path / "IEMOCAP_full_release"
    ev = root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    avi = root / "Session1" / "dialog" / "avi" / "DivX" / "Ses01F_impro01.avi"
    mp3 = root / "AudioMP3" / "1001_DFA_ANG_XX.mp3"
    for p, data in ((ev, b"neu"), (avi, b"\0" * 4096), (mp3, b"ID3")):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    before = tree_fingerprint(root)
    assert read == ["Ses01F_impro01.txt"]
    # a label file edited in place (same size, same mtime) is still seen
    st = ev.stat()
    ev.write_bytes(b"ang")
    os.utime(ev, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert tree_fingerprint(root) != before
    # a replaced video is seen by its size / mtime
    now = tree_fingerprint(root)
    avi.write_bytes(b"\1" * 8192)
    assert tree_fingerprint(root) != now


# ---- item 15: a file longer than the crop is predicted from windows covering all of it ----------------

class LoudnessModel(Recognizer):
    """Two classes: an utterance whose RMS is above 0.1 is 'loud' (0.9), else 'quiet' (0.9); max_seconds 4."""

    classes, attributes, sample_rate, max_seconds = ["quiet", "loud"], [], 16000, 4.0

    def forward_batch(self, wavs, wav_lens=None, texts=None, speaker_stats=None):
        n = torch.round(wav_lens * wavs.shape[1]).long()
        rms = torch.stack([w[:k].pow(2).mean().sqrt() for w, k in zip(wavs, n)])
        loud = (rms > 0.1).float()
        return {"probs": torch.stack([0.9 - 0.8 * loud, 0.1 + 0.8 * loud], 1), "attributes": None}



def test_long_files_are_predicted_from_windows_covering_them(tmp_path):
    from speechbrain_ser.inference import predict_files

    t = np.arange(20 * 16000) / 16000
    x = np.sin(2 * np.pi * 220 * t) * np.where(t < 10, 0.01, 0.5)   # quiet for 10 s, then loud
    path, short = tmp_path / "call.flac", tmp_path / "short.wav"
    sf.write(path, x.astype(np.float32), 16000)
    sf.write(short, x[:3 * 16000].astype(np.float32), 16000)
    m = LoudnessModel()
    got = dict(predict_files(m, [str(path), str(short)]))
    # windows of 4 s every 2 s: starts 0..16 s, 9 windows; 0-4, 2-6, 4-8, 6-10 quiet, 8-12 ... 16-20 loud
    r = got[0]
    assert r["windows"] == 9 and r["seconds"] == pytest.approx(20.0)
    assert r["probs"]["loud"] == pytest.approx((4 * 0.1 + 5 * 0.9) / 9, abs=1e-6) and r["label"] == "loud"
    assert got[1]["windows"] == 1 and got[1]["seconds"] == pytest.approx(3.0) and got[1]["label"] == "quiet"
    cropped = dict(predict_files(m, [str(path)], crop=True))[0]     # the first 4 s only, as before
    assert cropped["label"] == "quiet" and cropped["seconds"] == pytest.approx(4.0) and cropped["windows"] == 1
    # class restriction applies to file labels
    assert dict(predict_files(m, [str(path)], classes=["quiet"]))[0]["label"] == "quiet"
    with pytest.raises(ValueError, match="not among the model's classes"):
        list(predict_files(m, [str(path)], classes=["anger"]))


def test_native_policy_keeps_ravdess_eight_classes(tmp_path):
    """RAVDESS's native 8-class protocol (issue 19): calm is its own class, one-hot targets, actor split."""
    from speechbrain_ser.labels.targets import native_targets

    files = [f"Actor_{a:02d}/03-01-0{e}-0{1 if e == 1 else 2}-01-01-{a:02d}.wav" for a in range(1, 7) for e in range(1, 9)]
    m, _ = read(make(tmp_path, "ravdess", files), "ravdess")
    out, summary = native_targets({"ravdess": m}, {"seed": 0})
    assert summary["space"] == ["angry", "calm", "disgust", "fearful", "happy", "neutral", "sad", "surprised"]
    e = out["ravdess"]["ravdess_03-01-02-02-01-01-01"]
    assert e["hard"] == "calm" and e["target"] == [0, 1, 0, 0, 0, 0, 0, 0]
    actors = {}
    for x in out["ravdess"].values():
        assert actors.setdefault(x["speaker"], x["split"]) == x["split"]
    assert {x["split"] for x in out["ravdess"].values()} == {"train", "dev", "test"}
