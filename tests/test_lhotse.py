"""lhotse manifests in and out: a prepared corpus written as lhotse manifests (``prepare lhotse``)
and read back as a corpus by the ``lhotse`` reader: the same ids, labels, speakers and durations."""
import gzip
import json
import sys

import pytest

from conftest import ROOT, run

lhotse = pytest.importorskip("lhotse", reason="the lhotse extra is not installed")
CONF = ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, embedded_tiny):
    """Stages 1-2 of RAVDESS + URDU (URDU held out) on the embedded tiny data."""
    exp = tmp_path_factory.mktemp("lhotse")
    py = [sys.executable, "-m", "speechbrain_ser.prepare"]
    r = run(py + ["manifests", "--data-root", str(embedded_tiny), "--out", str(exp / "manifests"), "--corpora", "ravdess,urdu"])
    assert r.returncode == 0, r.stderr[-2000:]
    r = run(py + ["labels", "--config", str(CONF), "--manifests", str(exp / "manifests"), "--out", str(exp / "labels"),
                  "corpora=[ravdess,urdu] held_out=[urdu]"])
    assert r.returncode == 0, r.stderr[-2000:]
    return exp


def _entries(labels, corpus):
    out = {}
    for f in labels.glob("*.json"):
        if f.stem.startswith(corpus) or f.stem == f"zeroshot_{corpus}":
            out.update(json.loads(f.read_text()))
    return out


def test_a_prepared_corpus_round_trips_through_lhotse(prepared, tmp_path):
    from speechbrain_ser import corpora
    from speechbrain_ser.manifest import build_manifest

    out = tmp_path / "data" / "lhotse"
    r = run([sys.executable, "-m", "speechbrain_ser.prepare", "lhotse", "--labels", str(prepared / "labels"),
             "--out", str(out)])   # the data root: the one stage 1 read
    assert r.returncode == 0, r.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{c}_{k}.jsonl.gz" for c in ("ravdess", "urdu") for k in ("recordings", "supervisions", "cuts"))
    # what lhotse itself reads
    ravdess = _entries(prepared / "labels", "ravdess")
    sups = lhotse.load_manifest(out / "ravdess_supervisions.jsonl.gz")
    recs = lhotse.load_manifest(out / "ravdess_recordings.jsonl.gz")
    cuts = lhotse.load_manifest(out / "ravdess_cuts.jsonl.gz")
    assert sorted(s.id for s in sups) == sorted(ravdess) == sorted(r.id for r in recs) and len(cuts) == len(ravdess)
    uid = sorted(ravdess)[0]
    e, s = ravdess[uid], sups[uid]
    assert s.speaker == e["speaker"] and s.language == "en" and s.custom["native"] == e["native"]
    assert s.custom["emotion"] == e["hard"] and s.custom["split"] == e["split"] and s.custom["corpus"] == "ravdess"
    space = json.loads((prepared / "labels" / "summary.json").read_text())["space"]
    assert [s.custom["target"][c] for c in space] == pytest.approx(e["target"])
    assert abs(recs[uid].duration - e["duration"]) < 1e-3
    # and back: the lhotse reader takes that folder as a corpus
    manifest, rejects = build_manifest(corpora.get("lhotse"), out, tmp_path / "data")
    assert not rejects
    for corpus in ("ravdess", "urdu"):
        original = _entries(prepared / "labels", corpus)
        back = {u: m for u, m in manifest.items() if m["lhotse_corpus"] == corpus}
        assert sorted(back) == sorted(original), corpus
        for u, o in original.items():
            b = back[u]
            assert b["native"] == (o["hard"] or o["native"]) and b["lhotse_native"] == o["native"]
            assert b["speaker"] == o["speaker"] and b["language"] == o["language"] and b["corpus"] == "lhotse"
            assert abs(b["duration"] - o["duration"]) < 1e-3 and b["split"] == (o["split"] if o["split"] in ("train", "dev", "test") else None)
            assert b["wav"].endswith(o["wav"].split("}/", 1)[1])   # the same audio file, not a copy


def test_a_users_lhotse_data_enters_stage_1_and_2(tmp_path):
    """A lhotse folder made with lhotse's own API (emotion in custom, one segment of a longer
    recording): read as corpus ``lhotse``; the segment is rejected with its reason."""
    import numpy as np
    import soundfile as sf

    data = tmp_path / "data"
    (data / "lhotse" / "audio").mkdir(parents=True)
    recs, sups = [], []
    for i, emo in enumerate(["anger", "sadness", "neutral", "happiness"] * 3):
        wav = data / "lhotse" / "audio" / f"utt{i}.wav"
        sf.write(wav, (0.1 * np.sin(np.arange(16000) * (0.05 + 0.002 * i))).astype(np.float32), 16000)
        rec = lhotse.Recording.from_file(wav, recording_id=f"utt{i}")
        recs.append(rec)
        part = i == 11
        sups.append(lhotse.SupervisionSegment(id=f"my_utt{i}", recording_id=rec.id, start=0.5 if part else 0.0,
                                              duration=0.5 if part else rec.duration, speaker=f"spk{i % 3}",
                                              language="tr", gender="F", custom={"emotion": emo}))
    lhotse.RecordingSet.from_recordings(recs).to_file(data / "lhotse" / "mine_recordings_all.jsonl.gz")
    lhotse.SupervisionSet.from_segments(sups).to_file(data / "lhotse" / "mine_supervisions_all.jsonl.gz")
    py = [sys.executable, "-m", "speechbrain_ser.prepare"]
    r = run(py + ["manifests", "--data-root", str(data), "--out", str(tmp_path / "m"), "--corpora", "lhotse",
                  "--max-reject", "0.2"])
    assert r.returncode == 0, r.stderr[-2000:]
    m = json.loads((tmp_path / "m" / "lhotse.json").read_text())
    assert sorted(m) == sorted(f"my_utt{i}" for i in range(11)) and m["my_utt0"]["language"] == "tr"
    rejected = (tmp_path / "m" / "rejected_lhotse.tsv").read_text()
    assert "my_utt11 covers 0.50-1.00 s of a 1.00 s recording" in rejected
    r = run(py + ["labels", "--config", str(CONF), "--manifests", str(tmp_path / "m"), "--out", str(tmp_path / "l"),
                  "corpora=[lhotse] held_out=[lhotse]"])
    assert r.returncode == 0, r.stderr[-2000:]
    zs = json.loads((tmp_path / "l" / "zeroshot_lhotse.json").read_text())
    assert zs["my_utt0"]["hard"] == "anger" and zs["my_utt1"]["hard"] == "sadness"


def test_a_broken_lhotse_manifest_is_an_error_naming_it(tmp_path):
    from speechbrain_ser import corpora
    from speechbrain_ser.corpora.base import CorpusError
    from speechbrain_ser.manifest import build_manifest

    root = tmp_path / "lhotse"
    root.mkdir()
    with gzip.open(root / "x_supervisions.jsonl.gz", "wt") as f:
        f.write('{"id": "a", "recording_id": "a", "start": 0, "duration": 1.0}\n{not json\n')
    with pytest.raises(CorpusError, match="x_supervisions.jsonl.gz: no recordings manifest beside it"):
        build_manifest(corpora.get("lhotse"), root, tmp_path)
    import numpy as np
    import soundfile as sf

    sf.write(root / "a.wav", np.zeros(16000, np.float32), 16000)
    lhotse.RecordingSet.from_recordings([lhotse.Recording.from_file(root / "a.wav", "a")]).to_file(
        root / "x_recordings.jsonl.gz")
    with pytest.raises(CorpusError, match="x_supervisions.jsonl.gz: not a readable lhotse manifest"):
        build_manifest(corpora.get("lhotse"), root, tmp_path)
    lhotse.load_manifest(root / "x_recordings.jsonl.gz").to_file(root / "x_supervisions.jsonl.gz")
    with pytest.raises(CorpusError, match="x_supervisions.jsonl.gz: holds a RecordingSet, not a SupervisionSet"):
        build_manifest(corpora.get("lhotse"), root, tmp_path)
