"""Faults that the embedded data never showed and real copies do (issue 18), one test per item.

Fixtures use the real releases' file names; the audio is a short tone (names, folders and
formats are what matter here)."""
import numpy as np
import pytest
import soundfile as sf
import torch

from speechbrain_ser.corpora.base import AUDIO_EXTENSIONS
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

def test_mesd_every_split_has_every_voice_type(tmp_path):
    words = [f"palabra{i:02d}" for i in range(20)]
    files = [f"{emo}_{v}_{'A' if i < 10 else 'B'}_{w}.wav" for i, w in enumerate(words)
             for v in "FMC" for emo in ("Anger", "Neutral")]
    m, rej = read(make(tmp_path, "mesd", files), "mesd")
    entries = {k: dict(v) for k, v in m.items()}
    how = assign_splits(entries, 0.15, 0.2, 0, unit="transcript")
    assert how == "transcript"
    voices = {s: {e["speaker"] for e in entries.values() if e["split"] == s} for s in ("train", "dev", "test")}
    assert all(v == {"mesd_F", "mesd_M", "mesd_C"} for v in voices.values()), voices
    split_of_word = {}
    for e in entries.values():  # a word's recordings stay in one split
        assert split_of_word.setdefault(e["transcript"], e["split"]) == e["split"]


def test_stage2_splits_mesd_by_word(tmp_path):
    from speechbrain_ser.labels.targets import split_unit

    assert split_unit("mesd") == "transcript" and split_unit("ravdess") == "speaker"


# ---- item 4: unknown speakers ------------------------------------------------------------------

def test_unknown_speakers_are_no_speaker_class_and_are_split_one_by_one():
    from speechbrain_ser.data import domains_of

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
