import json
import logging
import shutil

import numpy as np
import pytest
import soundfile as sf

from speechbrain_ser import corpora
from speechbrain_ser.corpora.base import CorpusError
from speechbrain_ser.prepare import stage_manifests
from speechbrain_ser.synth import layouts

REQUIRED = {"wav", "duration", "corpus", "language", "speaker", "gender", "split", "native",
            "intensity", "transcript", "votes", "avd", "source"}


def test_row_counts_equal_generator_counts(tiny_root, tiny_manifests):
    made = json.loads((tiny_root / ".synth.json").read_text())["counts"]
    read = json.loads((tiny_manifests / "counts.json").read_text())
    assert read == made
    assert len(read) == 16


def test_manifest_contract(tiny_root, tiny_manifests):
    languages = set()
    for name in layouts.NAMES:
        m = json.loads((tiny_manifests / f"{name}.json").read_text())
        for uid, e in m.items():
            assert REQUIRED <= set(e), (name, uid)
            assert e["wav"].startswith("{data_root}/")
            path = tiny_root / e["wav"].replace("{data_root}/", "")
            assert e["duration"] == pytest.approx(sf.info(str(path)).duration, abs=1e-3)
            assert e["gender"] in ("F", "M", "U") and e["corpus"] == name
            languages.add(e["language"])
    assert len(languages) >= 10
    iemocap = json.loads((tiny_manifests / "iemocap.json").read_text())
    e = next(iter(iemocap.values()))
    assert len(e["votes"]) == 3 and e["transcript"] and len(e["avd"]) == 3


def test_speechbrain_reads_the_manifest(tiny_root, tiny_manifests):
    from speechbrain.dataio.dataset import DynamicItemDataset

    ds = DynamicItemDataset.from_json(str(tiny_manifests / "emodb.json"),
                                      replacements={"data_root": str(tiny_root)})
    ds.set_output_keys(["id", "wav", "duration"])
    item = ds[0]
    assert sf.info(item["wav"]).frames > 0


def _copy(tiny_root, tmp_path, name):
    mod = corpora.get(name)
    root = tmp_path / "data"
    shutil.copytree(tiny_root / mod.DIRNAME, root / mod.DIRNAME)
    return root, root / mod.DIRNAME


def _fails(root, tmp_path, name, match, **kw):
    out = tmp_path / "out"
    with pytest.raises(CorpusError, match=match) as e:
        stage_manifests(root, out, [name], **kw)
    assert not list(out.glob("*.json")), "nothing may be written on bad input"
    return str(e.value)


def test_missing_audio_names_label_file_and_line(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "msp_podcast")
    victim = sorted((c / "Audios").glob("*.wav"))[2]
    victim.unlink()
    # one file of 40 (2.5 %) is a reject listed with its label line; with strict it is an error
    stage_manifests(root, tmp_path / "ok", ["msp_podcast"])
    listed = (tmp_path / "ok" / "rejected_msp_podcast.tsv").read_text().splitlines()[1].split("\t")
    assert listed[0].endswith(victim.name) and "labels_consensus.csv:" in listed[1]
    msg = _fails(root, tmp_path, "msp_podcast", "audio file missing", strict=True)
    assert "labels_consensus.csv:" in msg and victim.name in msg


def test_unreadable_empty_and_nan_audio(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "emodb")
    wavs = sorted((c / "wav").glob("*.wav"))
    wavs[0].write_bytes(b"not a wav file at all")
    assert wavs[0].name in _fails(root, tmp_path, "emodb", "unreadable")
    sf.write(str(wavs[0]), np.zeros(0, np.float32), 16000)
    assert wavs[0].name in _fails(root, tmp_path, "emodb", "empty")
    x = np.zeros(1600, np.float32); x[5] = np.nan
    sf.write(str(wavs[0]), x, 16000, subtype="FLOAT")
    assert wavs[0].name in _fails(root, tmp_path, "emodb", "NaN")


def test_unknown_label_in_file_name(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "emodb")
    w = sorted((c / "wav").glob("*.wav"))[0]
    w.rename(w.with_name(w.name[:5] + "Z" + w.name[6:]))
    assert "unknown EmoDB label 'Z'" in _fails(root, tmp_path, "emodb", "unknown")


def test_bad_consensus_rows(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "msp_podcast")
    csv = c / "Labels" / "labels_consensus.csv"
    lines = csv.read_text().splitlines()
    good = list(lines)
    fields = lines[3].split(",")
    lines[3] = ",".join([fields[0], "Q"] + fields[2:])
    csv.write_text("\n".join(lines) + "\n")
    assert "labels_consensus.csv:4" in _fails(root, tmp_path, "msp_podcast", "unknown MSP-Podcast label 'Q'")
    csv.write_text("\n".join(good + [good[2]]) + "\n")
    msg = _fails(root, tmp_path, "msp_podcast", "duplicate utterance id")
    assert f"labels_consensus.csv:{len(good) + 1}" in msg
    csv.write_text("\n".join(good[:5] + [",".join(good[5].split(",")[:3])] + good[6:]) + "\n")
    assert "labels_consensus.csv:6" in _fails(root, tmp_path, "msp_podcast", "malformed row")


def test_bad_detailed_json(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "msp_podcast")
    (c / "Labels" / "labels_detailed.csv").unlink()
    (c / "Labels" / "labels_detailed.json").write_text('{"a.wav": {"W1": {"EmoClass_Major": "Happy",}}')
    assert "labels_detailed.json:1" in _fails(root, tmp_path, "msp_podcast", "invalid JSON")


def test_iemocap_malformed_evaluation_line(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "iemocap")
    ev = sorted(c.glob("Session*/dialog/EmoEvaluation/*.txt"))[0]
    lines = ev.read_text().splitlines()
    lines[2] = lines[2].replace("\t", " ")
    ev.write_text("\n".join(lines) + "\n")
    assert f"{ev.name}:3" in _fails(root, tmp_path, "iemocap", "malformed turn summary")


def test_msp_formats_and_spellings_agree(tiny_root, tmp_path, caplog):
    from speechbrain_ser.manifest import build_manifest

    mod = corpora.get("msp_podcast")
    root, c = _copy(tiny_root, tmp_path, "msp_podcast")
    caplog.set_level(logging.INFO)
    both, _ = build_manifest(mod, c, root)
    assert "labels_detailed.csv" in caplog.text and "labels_consensus.csv" in caplog.text
    (c / "Labels" / "labels_detailed.csv").unlink()
    (c / "Labels" / "labels_consensus.csv").rename(c / "Labels" / "labels_concensus.csv")
    caplog.clear()
    old, _ = build_manifest(mod, c, root)
    assert "labels_detailed.json" in caplog.text and "labels_concensus.csv" in caplog.text
    assert {k: v["votes"] for k, v in both.items()} == {k: v["votes"] for k, v in old.items()}
    assert [e["native"] for e in both.values()] == [e["native"] for e in old.values()]
    (c / "Labels" / "labels_concensus.csv").unlink()
    with pytest.raises(CorpusError, match="none of labels_consensus.csv, labels_concensus.csv, labels_consensus.json"):
        build_manifest(mod, c, root)


def test_stage1_reruns_when_a_label_file_changes(tiny_root, tmp_path):
    root, c = _copy(tiny_root, tmp_path, "msp_podcast")
    out = tmp_path / "man"
    stage_manifests(root, out, ["msp_podcast"])
    marker = (out / ".done.json").read_text()
    stage_manifests(root, out, ["msp_podcast"])
    assert (out / ".done.json").read_text() == marker  # unchanged input: up to date
    csv_path = c / "Labels" / "labels_consensus.csv"
    lines = csv_path.read_text().splitlines()
    f = lines[1].split(",")
    f[2] = f"{float(f[2]) + 1:.4f}"  # one arousal value edited, same size class of change
    lines[1] = ",".join(f)
    csv_path.write_text("\n".join(lines) + "\n")
    stage_manifests(root, out, ["msp_podcast"])
    m = json.loads((out / "msp_podcast.json").read_text())
    assert m[f[0][:-4]]["avd"][0] == pytest.approx(float(f[2]))
