"""Faults found by reading the code as a researcher with real corpora would: copies of one
utterance in two formats, emotion-shift files from unknown speakers, silence trimming of long
files, a shared feature cache, voices missing, what the embedded data's code hash covers,
helper scripts on the right data. Fixtures use the real releases' file names."""
import json
from pathlib import Path, PurePosixPath

import numpy as np
import pytest
import soundfile as sf

from speechbrain_ser.inference import Recognizer
from test_real_layouts import make, read


def _tone(path, seconds=0.5, sr=16000, freq=220.0, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    sf.write(str(path), (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, format=fmt)


# ---- lossless copies win over lossy ones ---------------------------------------------------------

@pytest.mark.skipif("MP3" not in sf.available_formats(), reason="this libsndfile cannot write MP3")
def test_crema_d_reads_audiowav_not_its_mp3_copies(tmp_path):
    names = ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1002_TIE_SAD_LO"]
    root = make(tmp_path, "crema_d", [], texts={"VideoDemographics.csv":
                                                "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,x,y\n1002,21,Female,x,y\n"})
    for n in names:  # the release: AudioMP3/ sorts before AudioWAV/
        _tone(root / "AudioMP3" / f"{n}.mp3", fmt="MP3")
        _tone(root / "AudioWAV" / f"{n}.wav")
    m, rej = read(root, "crema_d")
    assert sorted(m) == [f"crema_d_{n}" for n in names]
    assert all(e["wav"].endswith(".wav") and "/AudioWAV/" in e["wav"] for e in m.values()), m
    assert sorted(rej) == [f"AudioMP3/{n}.mp3" for n in names]
    assert all(not r.counts and "another copy" in r.reason for r in rej.values())


def test_a_lossy_copy_never_replaces_a_lossless_one_whatever_the_order(tmp_path):
    """FLAC first and Ogg second: the FLAC stays; Ogg first and FLAC second: the FLAC replaces it."""
    root = make(tmp_path, "ravdess", [])
    _tone(root / "a_flac" / "Actor_01" / "03-01-05-01-01-01-01.flac", fmt="FLAC")
    _tone(root / "b_ogg" / "Actor_01" / "03-01-05-01-01-01-01.ogg", fmt="OGG")
    _tone(root / "a_ogg" / "Actor_02" / "03-01-05-01-01-01-02.ogg", fmt="OGG")
    _tone(root / "b_flac" / "Actor_02" / "03-01-05-01-01-01-02.flac", fmt="FLAC")
    m, rej = read(root, "ravdess")
    assert sorted(PurePosixPath(e["wav"]).suffix for e in m.values()) == [".flac", ".flac"]
    assert sorted(rej) == ["a_ogg/Actor_02/03-01-05-01-01-01-02.ogg", "b_ogg/Actor_01/03-01-05-01-01-01-01.ogg"]
    assert all(not r.counts for r in rej.values())




# ---- emotion-shift files never join unknown speakers ---------------------------------------------

def test_emotion_shift_files_leave_unknown_speakers_out():
    from speechbrain_ser.emotion_shift import plan

    entries = {f"u{i}": {"corpus": "msp_podcast", "speaker": None, "hard": emo}  # 3 emotions, unknown speakers
               for i, emo in enumerate(["anger", "happiness", "sadness"] * 2)}
    entries.update({"k1": {"corpus": "msp_podcast", "speaker": "msp_1", "hard": "anger"},
                    "k2": {"corpus": "msp_podcast", "speaker": "msp_1", "hard": "sadness"}})
    assert plan(entries, per_corpus=2, n_emotions=3) == []  # the unknown ones are no speaker, nor pooled
    entries["k3"] = {"corpus": "msp_podcast", "speaker": "msp_1", "hard": "neutral"}
    files = plan(entries, per_corpus=2, n_emotions=3)
    assert files and all(spk == "msp_1" for _, _, spk, _ in files)
    assert {u for *_, parts in files for _, _, play in parts for u in play} == {"k1", "k2", "k3"}


# ---- the embedded data's code hash covers the generator only -------------------------------------

def test_embedded_data_code_hash_covers_only_the_generators_code():
    """Every file the hash reads is code the generator runs (imported when it makes every corpus);
    stage-4 evaluation code (the emotion-shift files) is not, so editing it keeps the data."""
    import subprocess
    import sys

    from speechbrain_ser.synth import generate
    from speechbrain_ser.synth.generate import generator_files

    probe = ("import sys; import speechbrain_ser.synth.generate\n"
             "from speechbrain_ser.synth import layouts\n"
             "[layouts.get(n) for n in layouts.NAMES]\n"
             "print('\\n'.join(sorted(m.__file__ for m in list(sys.modules.values())\n"
             "      if getattr(m, '__file__', None) and '/speechbrain_ser/synth/' in m.__file__)))")
    used = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
               .stdout.split())
    used.add(str(Path(generate.__file__).with_name("__main__.py")))  # the generator's command line
    hashed = {str(f) for f in generator_files()}
    assert hashed <= used, f"hashed but not run by the generator: {sorted(hashed - used)}"
    assert not any("shift" in f for f in hashed)


# ---- a gender without a voice is a clear error ---------------------------------------------------

def test_assign_voices_without_a_voice_of_the_gender_names_the_packages():
    from speechbrain_ser.synth.generate import assign_voices
    from speechbrain_ser.synth.layouts import Speaker
    from speechbrain_ser.synth.voices import Voice

    pool = {"fish_small_cs": Voice("fish_small_cs", "F", "cs", ["a.ogg"] * 40)}  # the big fish's package missing
    got = assign_voices([Speaker("ravdess_02", "F")], "en", pool)
    assert got["ravdess_02"][0].name == "fish_small_cs"
    with pytest.raises(RuntimeError, match="no real male voice for speaker ravdess_01.*fillets-ng-data-cs"):
        assign_voices([Speaker("ravdess_01", "M")], "en", pool)


# ---- a trim_db model hears a long file as training heard an utterance ----------------------------

class _EnergyModel(Recognizer):
    """A stand-in recogniser whose class scores are the window's mean square and length: which samples
    it was given is visible in its outputs."""
    classes, attributes, sample_rate, level_db, speaker_normalised = ["a", "b"], [], 16000, None, False

    def __init__(self, max_seconds, trim_db):
        self.max_seconds, self.trim_db, self.seen = max_seconds, trim_db, []

    def forward_batch(self, wavs, wav_lens=None, texts=None, speaker_stats=None):
        import torch

        n = (wav_lens * wavs.shape[1]).round().long()
        self.seen += n.tolist()
        ms = torch.stack([(w[:k] ** 2).mean() for w, k in zip(wavs, n)])
        return {"probs": torch.stack([ms, n / 1e6], 1), "attributes": None}



def test_trim_db_models_trim_long_files_before_deciding_on_windows(tmp_path):
    from speechbrain_ser.inference import predict_files

    sr, path = 16000, tmp_path / "long.wav"
    t = np.arange(int(6.5 * sr)) / sr
    speech = (0.2 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    sf.write(str(path), np.concatenate([np.zeros(3 * sr, np.float32), speech]), sr)  # 9.5 s, 3 s silence first
    model = _EnergyModel(max_seconds=7.0, trim_db=30.0)
    (_, r), = list(predict_files(model, [str(path)]))
    # trimmed: 6.5 s of speech + 0.1 s margin before it (the file ends with speech): one utterance
    assert r["windows"] == 1 and r["seconds"] == pytest.approx(6.6, abs=0.03), r
    assert model.seen == [len(model.load_audio(path))]
    # a model with a shorter crop windows the trimmed speech only: no window starts in the silence
    model = _EnergyModel(max_seconds=3.0, trim_db=30.0)
    tl = model.predict_timeline(str(path), window=3.0, hop=1.5, min_segment=0.0)
    assert tl["windows"][0]["start"] == pytest.approx(2.9, abs=0.03) and tl["windows"][-1]["end"] == pytest.approx(9.5)
    assert all(w["probs"]["a"] > 0.01 for w in tl["windows"])  # every window hears speech
    (_, r), = list(predict_files(model, [str(path)]))
    assert r["windows"] == len(tl["windows"]) == 4 and r["seconds"] == pytest.approx(6.6, abs=0.03)
    # without trim_db the file is heard whole, silence included
    model = _EnergyModel(max_seconds=7.0, trim_db=None)
    (_, r), = list(predict_files(model, [str(path)]))
    assert r["windows"] == 2 and r["seconds"] == pytest.approx(9.5)


# ---- a shared feature cache is locked while a run writes it ---------------------------------------

def test_shared_feature_cache_waits_for_the_run_writing_it(tmp_path, monkeypatch, caplog):
    """Run A (another process) holds the cache and is writing corpus c's part (no completion marker yet);
    run B's extraction waits, naming A, and does not clean A's unfinished set meanwhile; once A is done
    B finds the set made and extracts nothing."""
    import subprocess
    import sys
    import threading
    import time

    from speechbrain_ser import feature_cache
    from speechbrain_ser.stage import MARKER

    cache = tmp_path / "features"
    manifest = tmp_path / "train.json"
    manifest.write_text(json.dumps({"u1": {"wav": "{data_root}/c/u1.wav", "corpus": "c"}}))
    wavs = {"u1": feature_cache.source_of({"wav": "{data_root}/c/u1.wav"}, "/data")}  # what the cache knows it by
    part = cache / "fp" / "c" / f"part-{feature_cache._digest(wavs)}"
    part.mkdir(parents=True)
    (part / "feats.ark").write_text("being written by run A")
    release = tmp_path / "release"
    holder = subprocess.Popen([sys.executable, "-c", f"""
import pathlib, time
from speechbrain_ser.stage import folder_lock
with folder_lock({str(cache)!r}):
    print("held", flush=True)
    while not pathlib.Path({str(release)!r}).exists():
        time.sleep(0.05)
"""], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    monkeypatch.setattr(feature_cache, "upstream_fingerprint", lambda hp: "fp")
    extracted = []
    monkeypatch.setattr(feature_cache, "_extract", lambda hp, m, ark, scp, dev: extracted.append(m) or ark.write_text("B"))
    hp = {"feature_folder": str(cache), "data_root": "/data"}
    t = threading.Thread(target=feature_cache.ensure, args=(hp, {"train": manifest}))
    with caplog.at_level("WARNING", logger="speechbrain_ser.stage"):
        t.start()
        time.sleep(1.0)
        assert t.is_alive(), "run B did not wait for the lock"
        assert (part / "feats.ark").read_text() == "being written by run A"
        assert f"pid {holder.pid}" in caplog.text and "in use by another run" in caplog.text
        # run A finishes its part the way ensure does (scp, entries, marker), then releases
        from speechbrain_ser.stage import write_json_atomic

        (part / "feats.scp").write_text(f"u1 {part / 'feats.ark'}:0\n")
        (part / "entries.json").write_text(json.dumps(wavs))
        write_json_atomic(part / MARKER, {"options": {"entries": feature_cache._digest(wavs)}})
        release.write_text("")
        t.join(10)
    holder.wait(10)
    assert not t.is_alive() and extracted == []
    assert (part / "feats.ark").read_text() == "being written by run A"


# ---- ablate.sh and seeds.sh train on the data stage 0 makes; a variant that changes nothing stops ----

def test_ablate_sh_refuses_a_variant_that_changes_nothing(tmp_path):
    from conftest import run

    r = run(["recipes/Multilingual16/ablate.sh", "--size", "tiny", "--variants", "full no_augment",
             "--seeds", "0", "--out", str(tmp_path / "abl")], env={"SER_DATA_DIR": str(tmp_path / "data")})
    assert r.returncode != 0 and "no_augment: changes nothing" in r.stderr and "augment" in r.stderr, r.stderr[-2000:]
    assert not (tmp_path / "abl" / "full_seed0").exists() and not (tmp_path / "data").exists()  # before any run
    r = run(["recipes/Multilingual16/ablate.sh", "--size", "tiny", "--variants", "no_augment", "--seeds", "0",
             "--hparams", "hparams/whisper_tiny.yaml", "--help"])
    assert r.returncode == 0 and "--synth-voices" in r.stdout


def test_variant_changes_hand_examples():
    from conftest import ROOT
    from speechbrain_ser.hparams import variant_changes

    hp = ROOT / "recipes" / "Multilingual16" / "hparams"
    labels = ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml"
    assert variant_changes(hp / "whisper_tiny_frozen.yaml", ["--augment", "False"]) == []
    assert variant_changes(hp / "whisper_tiny.yaml", ["--augment", "False"]) == ["augment: True -> False"]
    assert variant_changes(hp / "whisper_tiny_frozen.yaml", [], labels, "neutral_smoothing=true") == []
    assert variant_changes(hp / "whisper_tiny_frozen.yaml", [], labels, "neutral_smoothing=false") == \
        ["neutral_smoothing: True -> False"]
    with pytest.raises(KeyError, match="no_such_key"):
        variant_changes(hp / "whisper_tiny.yaml", ["--no_such_key", "1"])


@pytest.mark.long
def test_ablate_sh_tiny_two_variants_from_a_clean_checkout(tmp_path):
    """From a clean data folder (SER_DATA_DIR empty): stage 0 makes the default's data (real voices) and
    every run reads that folder; the ablation table has both variants."""
    from conftest import run

    data = tmp_path / "data"
    r = run(["recipes/Multilingual16/ablate.sh", "--size", "tiny", "--variants", "full no_adversarial",
             "--seeds", "0", "--out", str(tmp_path / "abl"), "--", "--number_of_epochs", "1"],
            env={"SER_DATA_DIR": str(data)})
    assert r.returncode == 0, r.stderr[-3000:]
    assert [p.name for p in data.iterdir() if not p.name.startswith(".")] == ["synth_tiny_real"]
    for v in ("full", "no_adversarial"):
        options = json.loads((tmp_path / "abl" / f"{v}_seed0" / "train" / ".train_options.json").read_text())
        assert options["overrides"]["data_root"] == str(data / "synth_tiny_real"), options
    assert "domain_weight: 0.0 " in (tmp_path / "abl" / "no_adversarial_seed0" / "train" / "hyperparams.yaml").read_text()
    table = (tmp_path / "abl" / "ablation.md").read_text()
    assert "| full | 1 |" in table and "| no_adversarial | 1 |" in table
