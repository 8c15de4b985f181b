"""What a new user meets in the first hour (issue 20): overrides that merge and say when they are
wrong, output files a group can read, one file per held-out set, test selection by arguments."""
import json
import os
import re
import stat
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run
from speechbrain_ser.labels.harmonise import LabelConfigError
from speechbrain_ser.prepare import apply_overrides

LABELS = ROOT / "recipes" / "Multilingual16" / "conf" / "labels.yaml"


def cfg():
    return yaml.safe_load(LABELS.read_text())


def test_overrides_merge_into_nested_keys():
    c = apply_overrides(cfg(), "score_as.turev_db.Calm=neutral")
    assert c["score_as"]["turev_db"] == {"Calm": "neutral"}
    assert c["score_as"]["ravdess"] == {"calm": "neutral"} and c["score_as"]["iemocap"]["exc"] == "happiness"
    c = apply_overrides(cfg(), "score_as={turev_db: {Calm: neutral}} held_out=[urdu]")
    assert set(c["score_as"]) == {"iemocap", "ravdess", "tess", "turev_db"} and c["held_out"] == ["urdu"]
    assert apply_overrides(cfg(), "score_as={}")["score_as"] == {}   # an empty mapping replaces


def test_override_values_keep_their_spaces():
    c = apply_overrides(cfg(), "mapping='/data/my mappings/unified.yaml' corpora=[ravdess, urdu]")
    assert c["mapping"] == "/data/my mappings/unified.yaml" and c["corpora"] == ["ravdess", "urdu"]


@pytest.mark.parametrize("text, message", [
    ("score_as={turev_db:{Calm:neutral}}", r"'Calm:neutral' has no value \(write 'Calm: neutral'"),
    ("held_out=emodb", r"held_out: expected a list"),
    ("score_as=[a, b]", r"score_as: expected a mapping"),
    ("corpora=[ravdess", r"corpora: '\[ravdess' is not valid YAML"),
    ("neutral_smoothing", r"'neutral_smoothing' must be key=value"),
])
def test_malformed_overrides_are_errors_naming_them(text, message):
    with pytest.raises(LabelConfigError, match=message):
        apply_overrides(cfg(), text)


def test_outputs_follow_the_umask(tmp_path):
    from speechbrain_ser.stage import write_json_atomic, write_text_atomic

    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        write_json_atomic(tmp_path / "b.json", {"x": 1})
    finally:
        os.umask(old)
    for name in ("a.txt", "b.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_stage2_writes_each_held_out_set_once(tiny_manifests, tmp_path):
    from speechbrain_ser.prepare import stage_labels

    c = cfg()
    stage_labels(c, tiny_manifests, tmp_path / "labels")
    names = {p.name for p in (tmp_path / "labels").glob("*.json")}
    assert "zeroshot_urdu.json" in names and "urdu_zeroshot.json" not in names
    assert not [n for n in names if n.endswith("_zeroshot.json")]


def test_tests_run_sh_runs_what_its_arguments_select():
    r = run(["./tests/run.sh", "tests/test_first_hour.py", "-k", "umask", "--co"])
    assert r.returncode == 0, r.stderr[-2000:]
    ids = [x for x in r.stdout.splitlines() if "::" in x]
    assert ids == ["tests/test_first_hour.py::test_outputs_follow_the_umask"], r.stdout[-2000:]


def test_a_venv_copied_from_another_checkout_is_repointed(tmp_path):
    """setup.sh notices that the venv's editable install is another checkout's and repoints it."""
    import hashlib
    import shutil
    import subprocess
    import sys

    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the project venv's packages (setuptools for the editable build) visible in the small one
    site = next(venv.glob("lib/python3*/site-packages"))
    (site / "project_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "exp", "data", ".git", "*.egg-info"))
    stamp = hashlib.sha256((ROOT / "requirements.txt").read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    (venv / ".ser-stamp").write_text(stamp.hexdigest()[:16] + "\n")
    r = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                        "-e", str(ROOT)], capture_output=True, text=True)   # as if copied from ROOT
    assert r.returncode == 0, r.stderr[-2000:]
    where = [str(venv / "bin/python"), "-c", "import importlib.util as u; print(u.find_spec('speechbrain_ser').origin)"]
    assert subprocess.run(where, capture_output=True, text=True, cwd=tmp_path).stdout.strip().startswith(str(ROOT))
    r = run([str(copy / "tools/setup.sh")], env={"SER_VENV": str(venv)}, cwd=copy)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "not this checkout; reinstalling" in r.stderr
    assert subprocess.run(where, capture_output=True, text=True, cwd=tmp_path).stdout.strip() == \
        str(copy / "speechbrain_ser" / "__init__.py")


def test_the_built_wheel_holds_every_file_the_package_reads(tmp_path):
    """A non-editable install (the wheel, outside the checkout) loads both recipes' hparams."""
    import subprocess
    import sys
    import zipfile

    import shutil

    src = tmp_path / "src"  # a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    shutil.copytree(ROOT / "speechbrain_ser", src / "speechbrain_ser", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(tmp_path / "dist"), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("speechbrain_ser-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    package_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "speechbrain_ser").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts}
    assert package_files <= names, sorted(package_files - names)
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    code = ("import sys, speechbrain_ser, speechbrain_ser.hparams as h; "
            "assert speechbrain_ser.__file__.startswith(sys.argv[1]), speechbrain_ser.__file__; "
            "[print(len(h.merged_text(p))) for p in sys.argv[2:]]")
    files = [str(ROOT / "recipes" / r / "hparams" / "base.yaml") for r in ("Multilingual16", "MSP-Podcast")]
    r = subprocess.run([sys.executable, "-c", code, str(site), *files], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(site)})
    assert r.returncode == 0, r.stderr[-2000:]
    assert all(int(x) > 1000 for x in r.stdout.split())


TUREV = '''"""TurEV-DB (Turkish): Sound Source/<Emotion>/<spk>_<code>_<word>.wav, 4 emotions."""
from pathlib import Path

from .base import Row, check_label, each_file

NAME, LANGUAGE, DIRNAME = "turev_db", "tr", "TurEV-DB"
LABELS = {"Angry", "Calm", "Happy", "Sad"}
LAYOUTS = [r"(?P<emo>[A-Za-z]+)/(?P<spk>\\d+)_(?P<code>[a-z]+)_(?P<word>[a-z]+)"]


def _row(f: Path, m) -> Row:
    return Row(id=f"turev_db_{f.stem}", path=f, speaker=f"turev_db_{m['spk']}", gender="U",
               native=check_label(m["emo"], LABELS, "TurEV-DB"), source=str(f), transcript=m["word"],
               extra={"sentence": m["word"]})


def prepare(root: Path):
    return each_file(root, LAYOUTS, "TurEV-DB", _row)
'''

TUREV_ROWS = '''  turev_db:
    labels:
      Angry: {to: {anger: 1.0}, why: "angry"}
      Calm: {to: {neutral: 0.8, sadness: 0.2}, why: "calm, as RAVDESS calm"}
      Happy: {to: {happiness: 1.0}, why: "happy"}
      Sad: {to: {sadness: 1.0}, why: "sad"}
'''


def test_a_corpus_added_as_the_guide_says_is_scored_on_every_class(tmp_path):
    """docs/adding_a_corpus.md followed in a copy of the project: one reader file, mapping rows with a
    soft-mapped class; held out and scored zero-shot by --label-overrides alone. Without score_as the
    soft class is reported loudly; with it every class is scored."""
    import json
    import shutil
    import subprocess
    import sys

    import numpy as np
    import soundfile as sf

    copy = tmp_path / "project"
    shutil.copytree(ROOT / "speechbrain_ser", copy / "speechbrain_ser", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "recipes", copy / "recipes")
    (copy / "speechbrain_ser" / "corpora" / "turev_db.py").write_text(TUREV)
    mapping = copy / "speechbrain_ser" / "labels" / "unified_mapping.yaml"
    mapping.write_text(mapping.read_text().replace("  urdu:\n", TUREV_ROWS + "  urdu:\n", 1))
    data = tmp_path / "data"
    files = [f"TurEV-DB/Sound Source/{e}/{spk}_{c}_{w}.wav" for e, c in
             (("Angry", "a"), ("Calm", "c"), ("Happy", "h"), ("Sad", "s")) for spk in ("1157", "1358") for w in ("ayna", "kapi")]
    files += [f"RAVDESS/Actor_{a:02d}/03-01-0{e}-01-01-01-{a:02d}.wav" for a in (1, 2, 3, 4) for e in (1, 3, 4, 5)]
    for i, rel in enumerate(files):
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(data / rel, (0.1 * np.sin(np.arange(8000) * (0.05 + 0.001 * i))).astype(np.float32), 16000)
    env = {**os.environ, "PYTHONPATH": str(copy)}
    py = [sys.executable, "-m", "speechbrain_ser.prepare"]
    conf = str(copy / "recipes" / "Multilingual16" / "conf" / "labels.yaml")

    def stage12(overrides):
        r = subprocess.run(py + ["manifests", "--data-root", str(data), "--out", str(tmp_path / "m"),
                                 "--corpora", "ravdess,turev_db"], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        r = subprocess.run(py + ["labels", "--config", conf, "--manifests", str(tmp_path / "m"), "--out",
                                 str(tmp_path / "l"), overrides], capture_output=True, text=True, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stderr, json.loads((tmp_path / "l" / "summary.json").read_text())

    base = "corpora=[ravdess,turev_db] held_out=[turev_db] test_fraction=0.25"
    log, summary = stage12(base)
    assert "turev_db: 4 utterances of label(s) 'Calm' (4) have a soft mapping row and no hard label" in log
    assert 'score_as.turev_db.Calm=<class>' in log
    assert summary["corpora"]["turev_db"]["inventory"] == ["happiness", "sadness", "anger"]
    log, summary = stage12(base + " score_as.turev_db.Calm=neutral")
    assert "NOT scored" not in log
    assert summary["corpora"]["turev_db"]["inventory"] == ["neutral", "happiness", "sadness", "anger"]
    assert summary["corpora"]["ravdess"]["no_hard_label"] == {}   # RAVDESS's own score_as entry survived
    zs = json.loads((tmp_path / "l" / "zeroshot_turev_db.json").read_text())
    assert len(zs) == 16 and all(e["hard"] for e in zs.values())
    assert all(e["sentence"] in ("ayna", "kapi") for e in zs.values())   # Row.extra reaches the manifest
    # stage 4's scoring of these references: one row for the corpus over its 4 classes, all 16 scored
    from speechbrain_ser.prediction_files import write_head_output

    space = summary["space"]
    ids = sorted(zs)
    probs = np.array([[1.0 if c == zs[u]["hard"] else 0.0 for c in space] for u in ids])
    results = tmp_path / "results"
    write_head_output(results, "softmax")
    r = subprocess.run([sys.executable, "-c", "import sys, json, numpy as np; from pathlib import Path; "
                        "from speechbrain_ser.zero_shot import score; "
                        "ids = json.loads(sys.argv[1]); p = np.array(json.loads(sys.argv[2])); "
                        "score(Path(sys.argv[3]), Path(sys.argv[4]), {'lone': {'zeroshot_turev_db': (ids, p, None)}})",
                        json.dumps(ids), json.dumps(probs.tolist()), str(results), str(tmp_path / "l")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    import csv

    row = next(x for x in csv.DictReader(open(results / "zero_shot.csv")) if x["level"] == "corpus")
    assert row["name"] == "turev_db" and row["n"] == "16" and row["n_classes"] == "4" and float(row["uar"]) == 1.0
    assert row["mode"] == "lone"


def test_a_full_disk_leaves_no_partial_file_and_says_so(tmp_path, monkeypatch):
    import errno

    from speechbrain_ser.stage import write_csv_atomic

    target = tmp_path / "results" / "zero_shot.csv"
    write_csv_atomic(target, ["a"], [[1]])
    before = target.read_text()
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

        def write(self, _):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="zero_shot.csv: no space left on the device while writing it; nothing was"):
        write_csv_atomic(target, ["a"], [[2]] * 1000)
    monkeypatch.undo()
    assert target.read_text() == before and [p.name for p in target.parent.iterdir()] == ["zero_shot.csv"]


def test_a_run_on_your_corpora_gets_its_own_folder_with_its_label_config(embedded_tiny):
    """The README's "your corpora" command without --exp-dir: the label config it names reaches stage 2,
    and the outputs go to a folder named by the run, never into the embedded data's exp/<recipe>/mini."""
    import shutil

    demo = ROOT / "exp" / "Multilingual16" / "mini"
    before = sorted((p, p.stat().st_mtime_ns) for p in demo.rglob("*")) if demo.exists() else None
    r = run(["./run.sh", "--data-root", str(embedded_tiny), "--label-config", "conf/labels_real.yaml",
             "--label-overrides", "corpora=[ravdess,urdu]", "--stop-stage", "2"])
    assert r.returncode == 0, r.stderr[-2000:]
    out = Path(re.search(r"outputs in (\S+)", r.stderr).group(1))
    try:
        assert out.parent == ROOT / "exp" / "Multilingual16"
        assert re.fullmatch(r"labels_real-whisper_tiny_frozen-[0-9a-f]{8}-seed0", out.name), out.name
        config = json.loads((out / "data" / "labels" / ".done.json").read_text())["options"]["config"]
        assert config["corpora"] == ["ravdess", "urdu"] and config["training_only"] == ["tess"]  # labels_real.yaml's
        assert config["neutral_smoothing"] is False and config["held_out_languages"] == ["ur"]
        after = sorted((p, p.stat().st_mtime_ns) for p in demo.rglob("*")) if demo.exists() else None
        assert after == before  # the demo's folder untouched
    finally:
        shutil.rmtree(out, ignore_errors=True)
