"""Crash anywhere, rerun, same result (issue 21), and two seeds side by side.

The long checks (./tests/run.sh --long tests/test_crash_anywhere.py -s) run the tiny pipeline of
the espeak-ng data and the fine-tuned Whisper system three ways, all on embedded data made by the
runs themselves (SER_DATA_DIR), and the recipe's default system (real voices, frozen Whisper with
the feature cache and speaker normalisation) killed at its own points (a feature cache mid-write,
the speaker statistics, export, the speaker-mode predictions, ONNX), its rerun compared with a
clean run:

* A: seed 0, uninterrupted; B: seed 1 on another --exp-dir, started while A trains. Both finish,
  B's data goes to its own folder and A's audio is not touched.
* C: seed 0 again, SIGKILLed (the whole process group: driver, python, children) at 24 points
  across stages 0-5 and rerun with the same command after each kill. Kill points are events seen
  on disk (a corpus's temporary folder, a new checkpoint folder, the model's temporary folder, a
  temporary ONNX file, the report folder, ...) or delays after a (re)start (mid-epoch, mid-
  generation). C's final results, exported weights and report must equal A's byte for byte
  (the model's hyperparams.yaml except its first line, which names the checkpoint by its time).

The full disk during stage 4 is a real tmpfs (needs root; skipped otherwise).
"""
import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from conftest import ESPEAK_WHISPER, ROOT, run

CMD = ["./run.sh", "--size", "tiny", *ESPEAK_WHISPER]


def _start(exp, env, seed=0, cmd=None):
    log = open(exp.parent / f"{exp.name}.log", "a")
    cmd = cmd or CMD
    split = cmd.index("--") if "--" in cmd else len(cmd)  # run.sh options, then -- training overrides
    return subprocess.Popen(cmd[:split] + ["--exp-dir", str(exp), "--seed", str(seed)] + cmd[split:], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _gone(pgid, timeout=30):
    """Wait until every process of the killed group has exited: the driver's wait returns first,
    and until its children are gone they still hold the folder's lock (a rerun would stop, 75)."""
    t = time.time()
    while time.time() - t < timeout:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process group {pgid} still alive {timeout} s after SIGKILL")


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _new(base, pattern, before):
    return [p for p in base.glob(pattern) if str(p) not in before]


# (description, kind, argument): kind "new" waits until a path matching the glob (under "exp" or
# "data") appears that was not there at the (re)start; "delay" waits that many seconds.
KILLS = [
    ("stage 0: a corpus's temporary folder appears", "new", ("data", "synth_tiny/.tmp_*")),
    ("stage 0: 2 s into generation", "delay", 2.0),
    ("stage 0: a generated corpus moved into place", "new", ("data", "synth_tiny/*")),
    ("stage 0: 3 s into generation", "delay", 3.0),
    ("stage 0: a corpus's truth file written", "new", ("data", "synth_tiny/.synth_truth/*.jsonl")),
    ("stage 1: a manifest written", "new", ("exp", "data/manifests/*.json")),
    ("stage 2: a label file written", "new", ("exp", "data/labels/*.json")),
    ("stage 3: the training folder made", "new", ("exp", "train/hyperparams.yaml")),
    ("stage 3: 6 s after start (loading / first epoch)", "delay", 6.0),
    ("stage 3: a checkpoint folder appears (during its save)", "new", ("exp", "train/save/CKPT+*")),
    ("stage 3: 9 s after restart (mid-epoch)", "delay", 9.0),
    ("stage 3: a checkpoint's optimizer file written", "new", ("exp", "train/save/CKPT+*/optimizer.ckpt")),
    ("stage 3: 11 s after restart (mid-epoch)", "delay", 11.0),
    ("stage 3: a checkpoint folder appears (during its save)", "new", ("exp", "train/save/CKPT+*")),
    ("stage 3: 12 s after restart (mid-epoch)", "delay", 12.0),
    ("stage 3: a checkpoint's random state written", "new", ("exp", "train/save/CKPT+*/random_state.ckpt")),
    ("stage 3: a checkpoint folder appears (during its save)", "new", ("exp", "train/save/CKPT+*")),
    ("stage 4: the model's temporary folder appears (export)", "new", ("exp", "model.tmp")),
    ("stage 4: the model folder in place", "new", ("exp", "model/export.json")),
    ("stage 4: dev predictions written", "new", ("exp", "train/results/predictions_dev.csv")),
    ("stage 4: a temporary ONNX file appears", "new", ("exp", "model/.model.onnx.tmp")),
    ("stage 4: the emotion-shift files written", "new", ("exp", "train/results/shift/shift_scores.csv")),
    ("stage 5: the report folder appears", "new", ("exp", "report")),
    ("stage 5: a confusion figure written", "new", ("exp", "report/confusion_*.png")),
]


def _stage_of(log_path, offset=0):
    """The stage the run writing ``log_path`` from ``offset`` on is in ("stage N", or "set-up")."""
    with open(log_path, "rb") as f:
        f.seek(offset)
        stages = re.findall(r"\] Stage (\d)", f.read().decode(errors="replace"))
    return f"stage {stages[-1]}" if stages else "set-up"


def _compare(a, c, extra=()):
    """C's outputs equal A's: results, report and exported model (less what names the checkpoint's time
    or the experiment folder: hyperparams.yaml's first line, the card's checkpoint name, export.json's
    checkpoint, train_dir and hash of the training hyperparams, which hold the paths)."""
    checked = 0
    for rel in ["train/results/zero_shot.csv", "train/results/calibration.csv", "train/results/shift/shift_scores.csv",
                "report/report.md", *extra] + [f"model/{p.name}" for p in sorted((a / "model").iterdir())]:
        x, y = (a / rel).read_bytes(), (c / rel).read_bytes()
        if rel == "model/hyperparams.yaml":
            x, y = x.split(b"\n", 1)[1], y.split(b"\n", 1)[1]
        if rel == "model/README.md":  # names the checkpoint by its time
            x, y = (re.sub(rb"CKPT\+[\w+-]+", b"", t) for t in (x, y))
        if rel == "model/export.json":  # the checkpoint's time, the training folder and a hash of its
            x, y = (json.loads(t) for t in (x, y))  # hyperparams.yaml, which holds A's / C's paths
            for d in (x, y):
                d.pop("checkpoint"), d.pop("train_dir"), d["source"].pop("checkpoint"), d["source"].pop("hparams")
        assert x == y, rel
        checked += 1
    return checked


@pytest.mark.long
def test_crash_anywhere_rerun_same_result_and_a_concurrent_seed(tmp_path):
    rng = np.random.default_rng(21)
    data_ac, data_c = tmp_path / "data_a", tmp_path / "data_c"
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"

    # A (seed 0) uninterrupted; B (seed 1, another --exp-dir) starts while A trains
    t0 = time.time()
    pa = _start(a, {"SER_DATA_DIR": str(data_ac)})
    while not (a / "train" / "hyperparams.yaml").exists():
        assert pa.poll() is None, (a.parent / "a.log").read_text()[-3000:]
        time.sleep(0.2)
    audio_a = _digest(data_ac / "synth_tiny")
    pb = _start(b, {"SER_DATA_DIR": str(data_ac)}, seed=1)
    assert pa.wait(timeout=1200) == 0, (a.parent / "a.log").read_text()[-3000:]
    assert pb.wait(timeout=1200) == 0, (b.parent / "b.log").read_text()[-3000:]
    took_ab = time.time() - t0
    assert (data_ac / "synth_tiny_seed1" / ".synth.json").exists()
    assert _digest(data_ac / "synth_tiny") == audio_a            # B never rewrote A's audio
    assert (a / "train/results/zero_shot.csv").read_bytes() != (b / "train/results/zero_shot.csv").read_bytes()

    # C: killed at every point of KILLS, rerun after each
    t0 = time.time()
    kills, missed = _kill_and_rerun(c, {"SER_DATA_DIR": str(data_c)}, data_c, KILLS, rng)
    took_c = time.time() - t0

    print(f"\nA + B side by side: {took_ab:.0f} s; C with {len(kills)} kills and reruns: {took_c:.0f} s")
    _print_kills(kills, missed)
    assert len(kills) >= 20, (kills, missed)
    assert {s for _, s, _ in kills} >= {"stage 0", "stage 1", "stage 2", "stage 3", "stage 4", "stage 5"}, kills
    assert not list(c.rglob("*.tmp")) and not list(data_c.rglob(".tmp_*"))   # no temporary left behind
    print(f"  outputs equal to the uninterrupted run: {_compare(a, c)} files")


# The recipe's default system (real voices, frozen Whisper with the feature cache, speaker
# normalisation): its own kill points on top of the stages every system has.
DEFAULT_CMD = ["./run.sh", "--size", "tiny", "--", "--number_of_epochs", "2"]
DEFAULT_KILLS = [
    ("stage 0: a corpus's temporary folder appears", "new", ("data", "synth_tiny_real/.tmp_*")),
    ("stage 0: 3 s into generation", "delay", 3.0),
    ("stage 1: a manifest written", "new", ("exp", "data/manifests/*.json")),
    ("stage 3: a feature cache file appears (mid-write)", "new", ("exp", "train/features/*/*/part-*/feats.ark")),
    ("stage 3: 4 s into feature extraction", "delay", 4.0),
    ("stage 3: a feature set finished", "new", ("exp", "train/features/*/*/part-*/.done.json")),
    ("stage 3: a checkpoint's speaker statistics written", "new", ("exp", "train/save/CKPT+*/speaker_norm_layer.ckpt")),
    ("stage 3: 5 s after restart", "delay", 5.0),
    ("stage 4: the model's temporary folder appears (export)", "new", ("exp", "model.tmp")),
    ("stage 4: speaker-mode predictions written", "new", ("exp", "train/results/speaker/predictions_*.csv")),
    ("stage 4: a temporary ONNX file appears", "new", ("exp", "model/.model.onnx.tmp")),
    ("stage 5: the report folder appears", "new", ("exp", "report")),
]


@pytest.mark.long
def test_crash_anywhere_in_the_default_system_rerun_same_result(tmp_path):
    """As above for the default system: killed mid feature extraction, after the speaker statistics,
    in export, in the speaker-mode predictions and the ONNX export; the rerun equals a clean run."""
    rng = np.random.default_rng(28)
    a, c = tmp_path / "a", tmp_path / "c"
    r = subprocess.run(DEFAULT_CMD[:3] + ["--exp-dir", str(a)] + DEFAULT_CMD[3:], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "SER_DATA_DIR": str(tmp_path / "data_a")})
    assert r.returncode == 0, r.stderr[-3000:]
    kills, missed = _kill_and_rerun(c, {"SER_DATA_DIR": str(tmp_path / "data_c")}, tmp_path / "data_c",
                                    DEFAULT_KILLS, rng, DEFAULT_CMD)
    print(f"\ndefault system: {len(kills)} kills and reruns")
    _print_kills(kills, missed)
    assert len(kills) >= 8, (kills, missed)
    assert any("feature" in w for w, _, _ in kills) and any("speaker-mode" in w or "ONNX" in w for w, _, _ in kills)
    assert not list(c.rglob("*.tmp")) and not list((tmp_path / "data_c").rglob(".tmp_*"))
    n = _compare(a, c, extra=["train/results/speaker/predictions_test.csv", "train/results/predictions_test.csv"])
    print(f"  outputs equal to the uninterrupted run: {n} files")


def _print_kills(kills, missed):
    for what, stage, s in kills:
        print(f"  killed in {stage:8s} after {s:5.1f} s: {what}")
    for what in missed:
        print(f"  not reached (the run had finished that part): {what}")


def _kill_and_rerun(c, env, data, kills_list, rng, cmd=None):
    """Run ``cmd`` on ``c``, SIGKILL it at every point of ``kills_list`` and rerun after each; a point
    is armed once the one before it has fired, and one whose stage the running run has already left
    is passed over (not reached). Returns (kills, missed) after the last rerun finished."""
    bases = {"data": data, "exp": c}
    log = c.parent / f"{c.name}.log"
    kills, missed = [], []
    p = None
    for what, kind, arg in kills_list:
        if p is None:
            offset = log.stat().st_size if log.exists() else 0  # this run's part of the shared log
            p, start = _start(c, env, cmd=cmd), time.time()
        before = {str(q) for base in bases.values() if base.exists() for q in base.rglob("*")}
        delay = arg * float(rng.uniform(0.8, 1.2)) if kind == "delay" else None
        while True:
            if p.poll() is not None:  # finished on its own
                assert p.returncode == 0, log.read_text()[-3000:]
                missed.append(what)
                break
            if delay is not None and time.time() - start >= delay or \
                    delay is None and _new(bases[arg[0]], arg[1], before):
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                _gone(p.pid)
                kills.append((what, _stage_of(log, offset), round(time.time() - start, 1)))
                p = None
                break
            if _stage_of(log, offset) > what[:7]:  # "stage N" of the run now > this point's
                missed.append(what)
                break
            time.sleep(0.02)
    p = p or _start(c, env, cmd=cmd)
    assert p.wait(timeout=1200) == 0, log.read_text()[-3000:]
    return kills, missed


@pytest.fixture(scope="module")
def tiny_exp(tmp_path_factory):
    """Stages 0-3 of the tiny default run, one epoch."""
    exp = tmp_path_factory.mktemp("enospc") / "exp"
    r = run(CMD + ["--exp-dir", str(exp), "--stop-stage", "3", "--", "--number_of_epochs", "1"])
    assert r.returncode == 0, r.stderr[-3000:]
    return exp


@pytest.fixture
def full_tmpfs(tmp_path):
    """A 4 MB tmpfs, filled until it is full."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {r.stderr.strip()}")
    try:
        with open(mnt / "filler", "wb", buffering=0) as f:
            with pytest.raises(OSError) as full:
                while True:
                    f.write(b"\0" * 4096)
        assert full.value.errno == errno.ENOSPC
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)])


@pytest.mark.parametrize("where", ["model", "results"])
def test_a_full_disk_during_stage_4_says_so_and_leaves_no_partial_file(tiny_exp, full_tmpfs, where, embedded_tiny):
    """Stage 4 on a real full filesystem: exporting the model (35 MB of weights) or writing the
    predictions fails with the error naming what could not be written; nothing partial is left."""
    py = str(ROOT / ".venv" / "bin" / "python")
    model = full_tmpfs / "model" if where == "model" else tiny_exp / "model"
    results = full_tmpfs / "results" if where == "results" else tiny_exp / "train" / "results"
    r = run([py, "-m", "speechbrain_ser.evaluate", "--task", "zero-shot", "--train-dir", str(tiny_exp / "train"),
             "--labels", str(tiny_exp / "data" / "labels"), "--data-root", str(embedded_tiny),
             "--model-dir", str(model), "--results", str(results)])
    assert r.returncode != 0
    assert "no space left on the device while writing it" in r.stderr, r.stderr[-2000:]
    named = str(model) if where == "model" else str(results)
    assert named in r.stderr.splitlines()[-1], r.stderr[-1000:]
    left = sorted(p.name for p in full_tmpfs.rglob("*") if p.is_file())
    assert left == ["filler"], left
