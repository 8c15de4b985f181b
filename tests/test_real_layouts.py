"""Readers on the layouts and file names real copies of the corpora have.

Every fixture is made of the real release's file names (the audio is a short
tone: only names and folders matter here); each case failed on the readers that
globbed fixed depths and aborted a corpus on one odd file.
"""
import json
import logging
import shutil

import numpy as np
import pytest
import soundfile as sf

from speechbrain_ser import corpora
from speechbrain_ser.corpora.base import CorpusError
from speechbrain_ser.manifest import build_manifest
from speechbrain_ser.prepare import stage_manifests


def make(tmp_path, name, files, texts=None):
    """A corpus folder holding ``files`` (tiny wavs) and ``texts`` ({relpath: content})."""
    root = tmp_path / "data" / corpora.get(name).DIRNAME
    for i, rel in enumerate(files):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(1600) / 16000
        sf.write(str(p), (0.1 * np.sin(2 * np.pi * (200 + 10 * i) * t)).astype(np.float32), 16000)
    for rel, content in (texts or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content, encoding="utf-8")
    return root


def read(root, name, **kw):
    kw.setdefault("max_reject", 1.0)
    m, rejects = build_manifest(corpora.get(name), root, root.parent, **kw)
    return m, {r.path.relative_to(root).as_posix(): r for r in rejects}


def test_ravdess_archive_folder_kaggle_duplicates_and_song_files(tmp_path):
    root = make(tmp_path, "ravdess", [
        "Audio_Speech_Actors_01-24/Actor_18/03-01-05-01-02-01-18.wav",
        "Audio_Speech_Actors_01-24/Actor_18/03-01-01-01-01-01-18.wav",
        "Audio_Speech_Actors_01-24/Actor_01/03-01-08-02-02-02-01.wav",
        "Actor_18/03-01-05-01-02-01-18.wav",                             # Kaggle: the same file twice
        "Audio_Song_Actors_01-24/Actor_18/03-02-05-01-02-01-18.wav",     # song, not speech
        "Audio_Speech_Actors_01-24/Actor_18/03-01-05-01-02-01-17.wav",   # actor 17 in Actor_18
    ])
    m, rej = read(root, "ravdess")
    assert sorted(m) == ["ravdess_03-01-01-01-01-01-18", "ravdess_03-01-05-01-02-01-18",
                         "ravdess_03-01-08-02-02-02-01"]
    e = m["ravdess_03-01-05-01-02-01-18"]
    assert (e["native"], e["gender"], e["intensity"], e["speaker"]) == ("angry", "F", "normal", "ravdess_18")
    assert m["ravdess_03-01-08-02-02-02-01"]["gender"] == "M"
    assert e["wav"] == "{data_root}/RAVDESS/Actor_18/03-01-05-01-02-01-18.wav"  # first in sorted order wins
    assert "song" in rej["Audio_Song_Actors_01-24/Actor_18/03-02-05-01-02-01-18.wav"].reason
    dup = rej["Audio_Speech_Actors_01-24/Actor_18/03-01-05-01-02-01-18.wav"]
    assert "another copy" in dup.reason and not dup.counts
    assert "folder of actor 18" in rej["Audio_Speech_Actors_01-24/Actor_18/03-01-05-01-02-01-17.wav"].reason


def test_tess_flat_folder_and_folder_spellings(tmp_path):
    root = make(tmp_path, "tess", ["OAF_lid_fear.wav", "YAF_back_angry.wav", "OAF_Fear/OAF_bite_fear.wav",
                                   "YAF_pleasant_surprised/YAF_bath_ps.wav", "OAF_neutral/OA_bite_neutral.wav",
                                   "TESS Toronto emotional speech set data/YAF_sad/YAF_bean_sad.wav",
                                   "YAF_back_bored.wav"])
    m, rej = read(root, "tess")
    assert {k: v["native"] for k, v in m.items()} == {
        "tess_OAF_lid_fear": "fear", "tess_YAF_back_angry": "angry", "tess_OAF_bite_fear": "fear",
        "tess_YAF_bath_ps": "ps", "tess_OAF_bite_neutral": "neutral", "tess_YAF_bean_sad": "sad"}
    assert m["tess_OAF_bite_neutral"]["speaker"] == "tess_OAF"
    assert "unknown TESS label 'bored'" in rej["YAF_back_bored.wav"].reason


def test_savee_flat_names_and_release_folders_give_the_same_ids(tmp_path):
    root = make(tmp_path, "savee", ["JE_n23.wav", "DC_sa01.wav", "AudioData/KL/su15.wav", "ALL/KL_su15.wav"])
    m, rej = read(root, "savee")
    assert {k: v["native"] for k, v in m.items()} == {"savee_JE_n23": "n", "savee_DC_sa01": "sa",
                                                      "savee_KL_su15": "su"}
    assert not rej["AudioData/KL/su15.wav"].counts  # the same utterance in both layouts: listed once, not lost


def test_mesd_in_its_own_folder_one_speaker_per_voice_type(tmp_path):
    d = "Mexican Emotional Speech Database (MESD)"
    root = make(tmp_path, "mesd", [f"{d}/Anger_F_A_abajo.wav", f"{d}/Anger_F_B_arma.wav",
                                   f"{d}/Sadness_C_A_adios.wav", f"{d}/Neutral_M_B_llave.wav"])
    m, rej = read(root, "mesd")
    assert not rej
    assert m["mesd_Anger_F_A_abajo"]["speaker"] == m["mesd_Anger_F_B_arma"]["speaker"] == "mesd_F"
    assert m["mesd_Sadness_C_A_adios"]["gender"] == "U" and m["mesd_Neutral_M_B_llave"]["gender"] == "M"


def _esd_files(with_splits: bool):
    """Real ESD numbering: per speaker 5 blocks of 350 (Neutral, Angry, Happy, Sad, Surprise);
    within a block 1-20 evaluation, 21-50 test, 51-350 train."""
    out = {}
    for spk in ("0001", "0016"):
        for b, emo in enumerate(["Neutral", "Angry", "Happy", "Sad", "Surprise"]):
            for pos, split in ((19, "evaluation"), (21, "test"), (350, "train")):
                n = b * 350 + pos
                folder = f"{emo}/{split}/" if with_splits else f"{emo}/"
                out[f"{spk}/{folder}{spk}_{n:06d}.wav"] = {"evaluation": "dev"}.get(split, split)
    return out


def test_esd_split_from_folders_and_derived_from_numbering_agree(tmp_path, caplog):
    official = _esd_files(True)
    root = make(tmp_path / "a", "esd", ["Emotion Speech Dataset/" + k for k in official],
                {"Emotion Speech Dataset/0001/0001.txt": "0001_000019\t打远一看，它们的确很是美丽，\t中立\n"})
    m, _ = read(root, "esd")
    by_folder = {k: v["split"] for k, v in m.items()}
    assert by_folder == {f"esd_{k.split('/')[-1][:-4]}": v for k, v in official.items()}
    assert m["esd_0001_000019"]["transcript"] == "打远一看，它们的确很是美丽，"
    assert m["esd_0016_000021"]["language"] == "en" and m["esd_0016_000021"]["gender"] == "F"
    flat = make(tmp_path / "b", "esd", list(_esd_files(False)) + ["0001/Angry/0001_000019.wav"])
    caplog.set_level(logging.INFO)
    m2, rej = read(flat, "esd")
    assert "derived from the utterance numbering" in caplog.text
    assert {k: v["split"] for k, v in m2.items()} == by_folder
    assert "outside the Angry block" in rej["0001/Angry/0001_000019.wav"].reason


def test_casia_lower_case_speaker_folders(tmp_path):
    root = make(tmp_path, "casia", ["zhaozuoxiang/angry/201.wav", "ZhaoZuoxiang/Happy/202.wav",
                                    "CASIA database/liuchanhg/sad/203.wav", "zhangsan/angry/201.wav"])
    m, rej = read(root, "casia")
    assert m["casia_ZhaoZuoxiang_angry_201"]["gender"] == "M"
    assert m["casia_ZhaoZuoxiang_happy_202"]["native"] == "happy"
    assert m["casia_liuchanhg_sad_203"]["gender"] == "F"
    assert "unknown CASIA speaker folder 'zhangsan'" in rej["zhangsan/angry/201.wav"].reason


def test_aesdd_retakes_padded_actor_numbers_and_actor_6(tmp_path):
    root = make(tmp_path, "aesdd", ["anger/a06 (5)b.wav", "sadness/s01 (5)a.wav", "disgust/d03 (01).wav",
                                    "fear/f10 (01).wav", "anger/a01 (6).wav", "anger/a06 (5).wav",
                                    "happiness/a02 (1).wav"])
    m, rej = read(root, "aesdd")
    assert sorted(m) == ["aesdd_a01_6", "aesdd_a06_5", "aesdd_a06_5b", "aesdd_d03_1", "aesdd_f10_1",
                         "aesdd_s01_5a"]
    assert m["aesdd_d03_1"]["speaker"] == "aesdd_1" and m["aesdd_a01_6"]["speaker"] == "aesdd_6"
    # genders are not documented per actor: every actor is U, not actors 1-5 guessed and 6 silently U
    assert {e["gender"] for e in m.values()} == {"U"}
    assert "'happiness' folder" in rej["happiness/a02 (1).wav"].reason


def test_subesco_mistyped_name_is_listed_not_fatal(tmp_path):
    good = [f"SUBESCO/{g}_{n:02d}_{name}_S_{s}_{emo}_{t}.wav" for g, n, name in (("F", 2, "MONIKA"), ("M", 1, "RAHIM"))
            for s in (1, 2) for emo in ("ANGRY", "SURPRISE", "NEUTRAL") for t in (1, 2, 3, 4, 5)]
    root = make(tmp_path, "subesco", good + ["SUBESCO/F_02_MONIKA_S_2_SURPRISE_3].wav"])
    m, rej = read(root, "subesco", max_reject=0.05)
    assert len(m) == 60 and "naming convention" in rej["SUBESCO/F_02_MONIKA_S_2_SURPRISE_3].wav"].reason
    with pytest.raises(CorpusError, match=r"F_02_MONIKA_S_2_SURPRISE_3\]\.wav.*strict"):
        read(root, "subesco", strict=True)


def test_reject_threshold_is_an_error_naming_the_files(tmp_path):
    root = make(tmp_path, "subesco", ["F_02_MONIKA_S_1_ANGRY_1.wav", "F_02_MONIKA_S_1_ANGRY_2.wav",
                                      "F_02_MONIKA_S_2_SURPRISE_3].wav"])
    with pytest.raises(CorpusError, match=r"1 of 3 files rejected \(33.3% > max_reject 5%\).*SURPRISE_3\]"):
        read(root, "subesco", max_reject=0.05)
    m, _ = read(root, "subesco", max_reject=0.4)
    assert len(m) == 2


def test_cafe_neutral_has_no_intensity(tmp_path):
    root = make(tmp_path, "cafe", ["Neutre/08-N-1-1.wav", "Neutre/01-N-1-6.wav", "Colère/Faible/01-C-1-2.wav",
                                   "Colère/Fort/02-C-2-2.wav"])
    m, rej = read(root, "cafe")
    assert not rej
    assert m["cafe_08-N-1-1"]["intensity"] is None and m["cafe_08-N-1-1"]["gender"] == "F"
    assert m["cafe_01-N-1-6"]["transcript"] == "Six ours aimants domestiqués."
    assert (m["cafe_01-C-1-2"]["intensity"], m["cafe_02-C-2-2"]["intensity"]) == ("faible", "fort")


def test_emodb_every_text_code_has_a_transcript(tmp_path):
    codes = ["a01", "a02", "a04", "a05", "a07", "b01", "b02", "b03", "b09", "b10"]
    root = make(tmp_path, "emodb", [f"wav/03{c}Fa.wav" for c in codes] + ["wav/16b09Lb.wav"])
    m, rej = read(root, "emodb")
    assert not rej and all(e["transcript"] for e in m.values())
    assert m["emodb_03a05Fa"]["transcript"].startswith("Das schwarze Stück Papier")
    assert m["emodb_16b09Lb"]["gender"] == "F"


IEMOCAP_EVAL = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()
C-E4:\tNeutral;\t()
C-F1:\tNeutral;\t(curious)
A-E3:\tval 3; act 2; dom  2;\t()
A-E4:\tval 2; act 3; dom  3;\t(guarded, tense, ready)

[10.0100 - 11.3925]\tSes01F_impro01_F001\tfru\t[2.0000, 3.5000, 3.5000]
C-E1:\tFrustration; Anger;\t()
C-E3:\tFrustration;\t()
C-E4:\tNeutral;\t()
C-M1:\tAnger;\t()
A-E3:\tval 2; act 3; dom  3;\t()
"""


def test_iemocap_self_evaluations_are_not_annotator_votes(tmp_path):
    root = make(tmp_path, "iemocap", ["Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
                                      "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav"],
                {"Session1/dialog/EmoEvaluation/Ses01F_impro01.txt": IEMOCAP_EVAL})
    m, _ = read(root, "iemocap")
    votes = m["iemocap_Ses01F_impro01_F001"]["votes"]
    assert [v["worker"] for v in votes] == ["C-E1", "C-E3", "C-E4"]
    assert votes[0] == {"worker": "C-E1", "primary": ["fru", "ang"], "secondary": ["fru", "ang"]}
    m, _ = read(root, "iemocap", options={"self_evaluations": True})
    assert [v["worker"] for v in m["iemocap_Ses01F_impro01_F001"]["votes"]] == ["C-E1", "C-E3", "C-E4", "C-M1"]
    with pytest.raises(CorpusError, match="bad reader option"):
        read(root, "iemocap", options={"self_evaluation": True})


def _msp_copy(tiny_root, tmp_path):
    root = tmp_path / "data" / "MSP-Podcast"
    shutil.copytree(tiny_root / "MSP-Podcast", root)
    return root


def test_msp_test3_from_audios_and_from_empty_label_rows(tiny_root, tmp_path):
    root = _msp_copy(tiny_root, tmp_path)
    some = sorted((root / "Audios").glob("*.wav"))[0]
    for i in (1, 2, 3):
        shutil.copy(some, root / "Audios" / f"MSP-PODCAST_test3_{i:04d}.wav")
    with open(root / "Labels" / "labels_consensus.csv", "a") as f:  # one copy lists Test3 as label rows
        f.write("MSP-PODCAST_test3_0003.wav,,,,,Unknown,Unknown,Test3\n")
    m, rej = read(root, "msp_podcast", max_reject=0.0)
    t3 = {k: v for k, v in m.items() if v["split"] == "test3"}
    assert sorted(t3) == ["MSP-PODCAST_test3_0001", "MSP-PODCAST_test3_0002", "MSP-PODCAST_test3_0003"]
    assert all(v["native"] is None and v["avd"] is None and v["votes"] is None for v in t3.values())
    assert "labels_consensus.csv:" in t3["MSP-PODCAST_test3_0003"]["source"]
    csv_path = root / "Labels" / "labels_consensus.csv"
    lines = csv_path.read_text().splitlines()
    f = lines[2].split(",")
    assert f[-1] in ("Train", "Development", "Test1", "Test2")
    lines[2] = ",".join([f[0], ""] + f[2:])  # a labelled split with an empty label stays an error
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"labels_consensus.csv:3: unknown MSP-Podcast label ''"):
        read(root, "msp_podcast")


def test_msp_consensus_json_and_error_positions(tiny_root, tmp_path):
    import csv

    root = _msp_copy(tiny_root, tmp_path)
    labels = root / "Labels"
    ref, _ = read(root, "msp_podcast")
    with open(labels / "labels_consensus.csv") as f:
        rows = list(csv.DictReader(f))
    (labels / "labels_consensus.json").write_text(
        json.dumps({r["FileName"]: {k: v for k, v in r.items() if k != "FileName"} for r in rows}))
    (labels / "labels_consensus.csv").unlink()
    m, _ = read(root, "msp_podcast")
    assert {k: {f: v for f, v in e.items() if f != "source"} for k, e in m.items()} == \
           {k: {f: v for f, v in e.items() if f != "source"} for k, e in ref.items()}
    assert next(iter(m.values()))["source"] == str(labels / "labels_consensus.json")
    (labels / "labels_consensus.json").unlink()
    rows[4]["Split_Set"] = "Test9"
    with open(labels / "labels_consensus.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(CorpusError) as e:  # file:line first, then the problem (was swapped)
        read(root, "msp_podcast")
    assert str(e.value).startswith(f"{labels / 'labels_consensus.csv'}:6: unknown Split_Set 'Test9'")


def test_missing_audio_is_a_reject_naming_the_label_line(tiny_root, tmp_path):
    root = _msp_copy(tiny_root, tmp_path)
    victim = sorted((root / "Audios").glob("*.wav"))[2]
    victim.unlink()
    m, rej = read(root, "msp_podcast", max_reject=0.05)
    r = rej[f"Audios/{victim.name}"]
    assert r.reason.startswith("audio file missing (listed at ") and "labels_consensus.csv:" in r.reason
    with pytest.raises(CorpusError, match=f"{victim.name}: audio file missing"):
        read(root, "msp_podcast", strict=True)


@pytest.mark.parametrize("name,files,texts", [
    ("nemo", ["nEMO-main/samples/EB0_anger_1.wav", "nEMO-main/samples/WR0_surprised_64.wav",
              "nEMO-main/samples/KD0_neutral_2.wav", "nEMO-main/samples/KD0_anger_2.wav"],
     {"nEMO-main/data.tsv": "file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage\n"
      "WR0_surprised_64.wav\tsurprised\tUcho wykrywa dźwięki o różnej częstotliwości.\tucho wykrywa dźwięki\t        WR0\tmale\t23\n"
      "EB0_anger_1.wav\tanger\tLubię czytać przed snem.\tlubię czytać przed snem\t        EB0\tfemale\t27\n"
      "KD0_neutral_2.wav\tneutral\tNie waśńmy się ze sobą.\tnie waśńmy się ze sobą\t        KD0\tfemale\t28\n"
      "KD0_anger_2.wav\tsadness\tNie waśńmy się ze sobą.\tnie waśńmy się ze sobą\t        KD0\tfemale\t28\n"
      "MK0_fear_3.wav\tfear\tChodźmy w tango.\tchodźmy w tango\t        MK0\tfemale\t23\n"}),
    ("ased", ["ASED_V1-main/01Neutral/n1-01-01-01-01.wav", "ASED_V1-main/04Sad/S4-04-02-01-29.wav",
              "ASED_V1-main/05Angry/a5-02-01-02-02.wav", "ASED_V1-main/03Happy/a5-02-01-02-04.wav"], None),
    ("castro_lima", ["12sA_angry1.wav", "3pB_neutral2.wav", "7sB_surprise1.wav", "7sC_surprise1.wav"], None),
])
def test_new_corpora_read_their_release_names(tmp_path, name, files, texts):
    m, rej = read(make(tmp_path, name, files, texts), name)
    mod = corpora.get(name)
    assert m and all(e["language"] == mod.LANGUAGE and e["native"] in mod.LABELS for e in m.values())
    if name == "nemo":
        e = m["nemo_WR0_surprised_64"]
        assert (e["speaker"], e["gender"], e["native"]) == ("nemo_WR0", "M", "surprised")
        assert e["transcript"].startswith("Ucho") and e["source"].endswith("data.tsv:2")
        assert "says 'sadness'" in rej["nEMO-main/samples/KD0_anger_2.wav"].reason
        assert "no audio" in rej["nEMO-main/samples/MK0_fear_3.wav"].reason
    elif name == "ased":
        assert m["ased_s4-04-02-01-29"]["native"] == "s" and m["ased_s4-04-02-01-29"]["gender"] == "F"
        assert m["ased_a5-02-01-02-02"]["gender"] == "M"
        assert "'03Happy' folder" in rej["ASED_V1-main/03Happy/a5-02-01-02-04.wav"].reason
    else:
        assert m["castro_lima_12sA_angry1"]["speaker"] == "castro_lima_A"
        assert "naming convention" in rej["7sC_surprise1.wav"].reason


def test_stage1_writes_rejects_and_options_invalidate(tmp_path):
    root = make(tmp_path, "subesco", [f"F_02_MONIKA_S_{s}_ANGRY_{t}.wav" for s in range(1, 5) for t in range(1, 6)]
                + ["F_02_MONIKA_S_2_SURPRISE_3].wav", "M_01_RAHIM_S_1_BORED_1.wav"])
    out = tmp_path / "manifests"
    with pytest.raises(CorpusError):
        stage_manifests(root.parent, out, ["subesco"])  # 2 of 22 > 5 %
    assert not list(out.glob("*.json")) and not list(out.glob("*.tsv"))
    stage_manifests(root.parent, out, ["subesco"], max_reject=0.1)
    tsv = (out / "rejected_subesco.tsv").read_text().splitlines()
    assert tsv[0] == "path\treason\tcounted" and len(tsv) == 3
    assert tsv[1].startswith("{data_root}/SUBESCO/F_02_MONIKA_S_2_SURPRISE_3].wav\tname does not follow")
    assert "unknown SUBESCO label 'BORED'" in tsv[2]
    with pytest.raises(CorpusError, match="strict"):
        stage_manifests(root.parent, out, ["subesco"], max_reject=0.1, strict=True)
    assert not out.exists() or not (out / ".done.json").exists()


def test_new_corpora_are_zero_shot_by_configuration(tmp_path):
    """nEMO, ASED and Castro & Lima: stage 1 and stage 2 with them held out, from configuration only."""
    from speechbrain_ser.prepare import stage_labels

    names = {"nemo": [f"samples/{s}_{e}_{i}.wav" for s in ("EB0", "WR0") for e in ("anger", "neutral", "fear")
                      for i in (1, 2)],
             "ased": [f"0{k}{n}/{c}{k}-01-01-0{g}-{p:02d}.wav" for k, n, c in
                      ((1, "Neutral", "n"), (5, "Angry", "a"), (2, "Fearful", "f")) for g, p in ((1, 1), (2, 2))],
             "castro_lima": [f"{i}s{s}_{e}1.wav" for i in (1, 2) for s in "AB" for e in ("angry", "sad", "neutral")],
             "savee": [f"{s}_{c}0{i}.wav" for s in ("JE", "DC", "KL") for c in ("a", "n", "sa") for i in (1, 2)]}
    for n, files in names.items():
        root = make(tmp_path, n, files)
    data = root.parent
    stage_manifests(data, tmp_path / "man", list(names))
    cfg = dict(policy="unified", corpora=list(names), held_out=["nemo", "ased", "castro_lima"], mapping=None,
               neutral_smoothing=True, default_epsilon=0.1, epsilon_overrides={}, use_votes=True,
               dev_fraction=0.34, test_fraction=0.0, seed=0)
    stage_labels(cfg, tmp_path / "man", tmp_path / "labels")
    for n in ("nemo", "ased", "castro_lima"):
        z = json.loads((tmp_path / "labels" / f"zeroshot_{n}.json").read_text())
        assert len(z) == len(names[n]) and all(e["split"] == "zeroshot" and e["hard"] for e in z.values())
    assert not any(json.loads((tmp_path / "labels" / "train.json").read_text())[k]["corpus"] != "savee"
                   for k in json.loads((tmp_path / "labels" / "train.json").read_text()))


def test_run_sh_holds_out_new_corpora_by_options_only(tmp_path):
    """The user's command: a data root with real layouts, corpora and held-out set from options."""
    from conftest import run

    make(tmp_path, "savee", [f"{s}_{c}0{i}.wav" for s in ("JE", "DC", "KL") for c in ("a", "n", "sa") for i in (1, 2)])
    make(tmp_path, "nemo", [f"nEMO-main/samples/{s}_{e}_{i}.wav" for s in ("EB0", "WR0")
                            for e in ("anger", "fear") for i in (1, 2)] + ["nEMO-main/samples/EB0_bored_9.wav"])
    make(tmp_path, "ased", [f"ASED_V1-main/05Angry/a5-01-01-0{g}-{p:02d}.wav" for g, p in ((1, 1), (2, 2))])
    exp = tmp_path / "exp"
    r = run(["./run.sh", "--data-root", str(tmp_path / "data"), "--exp-dir", str(exp), "--stage", "0",
             "--stop-stage", "2", "--max-reject", "0.2",
             "--label-overrides", "corpora=[savee,nemo,ased] held_out=[nemo,ased] test_fraction=0.0"])
    assert r.returncode == 0, r.stderr[-3000:]
    labels = exp / "data" / "labels"
    assert len(json.loads((labels / "zeroshot_nemo.json").read_text())) == 8
    assert len(json.loads((labels / "zeroshot_ased.json").read_text())) == 2
    assert "EB0_bored_9.wav" in (exp / "data" / "manifests" / "rejected_nemo.tsv").read_text()
    assert "1 file(s) rejected" in r.stderr
    r = run(["./run.sh", "--data-root", str(tmp_path / "data"), "--exp-dir", str(exp), "--stage", "1",
             "--stop-stage", "1", "--strict", "true", "--label-overrides", "corpora=[savee,nemo,ased]"])
    assert r.returncode != 0 and "EB0_bored_9.wav" in r.stderr and "strict" in r.stderr
