"""One writer per experiment folder (issue 21): a second run on a locked folder stops at once naming
the holder; a killed holder's lock is free at once (an OS lock, never a stale file)."""
import os
import subprocess
import sys
import time

from conftest import ROOT, run

HOLD = """import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").write("pid 4242 on testhost since 2026-11-30 09:00:00: ./run.sh --seed 0\\n")
print("locked", flush=True)
time.sleep(600)
"""


def _holder(exp):
    exp.mkdir(parents=True, exist_ok=True)
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(exp / ".run.lock"), str(exp / ".run.lock.holder")],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_a_second_run_on_a_locked_folder_stops_naming_the_holder(tmp_path):
    exp = tmp_path / "exp"
    holder = _holder(exp)
    try:
        t = time.perf_counter()
        r = run(["./run.sh", "--size", "tiny", "--exp-dir", str(exp), "--stage", "6", "--stop-stage", "6"])
        took = time.perf_counter() - t
        assert r.returncode == 75, r.stderr[-2000:]
        assert "is in use by another run (pid 4242 on testhost since 2026-11-30 09:00:00: ./run.sh --seed 0)" in r.stderr
        assert took < 2.0, took
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holders_lock_is_taken_over_at_once(tmp_path):
    exp = tmp_path / "exp"
    holder = _holder(exp)
    holder.kill()      # SIGKILL: no clean-up ran, the holder file is still there
    holder.wait()
    assert (exp / ".run.lock.holder").exists()
    r = run(["./run.sh", "--size", "tiny", "--exp-dir", str(exp), "--stage", "6", "--stop-stage", "6"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert "--stage 6" in (exp / ".run.lock.holder").read_text()  # this run held it


def test_wait_lock_waits_for_the_holder(tmp_path):
    exp = tmp_path / "exp"
    holder = _holder(exp)
    p = subprocess.Popen(["./run.sh", "--size", "tiny", "--exp-dir", str(exp), "--stage", "6", "--stop-stage", "6",
                          "--wait-lock", "true"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert p.poll() is None  # still waiting
    holder.kill()
    holder.wait()
    _, err = p.communicate(timeout=60)
    assert p.returncode == 0 and "waiting for" in err and "pid 4242" in err


def test_embedded_data_is_keyed_by_seed_and_made_once(tmp_path):
    """Two stage 0s of one key at once make the data once; another seed gets a root of its own and the
    first root's audio is untouched (the driver keys data/synth_<size>[_seed<N>])."""
    import hashlib

    def make(root, seed):
        return subprocess.Popen([sys.executable, "-m", "speechbrain_ser.prepare", "data", "--data-root", str(root),
                                 "--synth-size", "tiny", "--seed", str(seed), "--corpora", "urdu,emodb"],
                                cwd=ROOT, stderr=subprocess.PIPE, text=True)

    a, b = make(tmp_path / "synth_tiny", 0), make(tmp_path / "synth_tiny", 0)
    errs = [p.communicate(timeout=300)[1] for p in (a, b)]
    assert a.returncode == b.returncode == 0, errs
    assert sum("synth urdu" in e for e in errs) == 1 and sum("already holds" in e for e in errs) == 1, errs

    def digest(root):
        return hashlib.sha1(b"".join(p.read_bytes() for p in sorted(root.rglob("*.wav")))).hexdigest()

    before = digest(tmp_path / "synth_tiny")
    c = make(tmp_path / "synth_tiny_seed1", 1)
    assert c.wait(timeout=300) == 0
    assert digest(tmp_path / "synth_tiny") == before != digest(tmp_path / "synth_tiny_seed1")
    # the one function every script names the data folder with (recipe.sh, ablate.sh, seeds.sh)
    def folder(size, seed, voices, **env):
        return subprocess.run(["bash", "-c", f'root=/r; . tools/embedded_data.sh; embedded_data_root {size} {seed} {voices}'],
                              cwd=ROOT, capture_output=True, text=True, check=True,
                              env={k: v for k, v in os.environ.items() if k != "SER_DATA_DIR"} | env).stdout.strip()
    assert folder("tiny", 0, "espeak") == "/r/data/synth_tiny"
    assert folder("tiny", 1, "espeak") == "/r/data/synth_tiny_seed1"
    assert folder("mini", 2, "real", SER_DATA_DIR="/big") == "/big/synth_mini_seed2_real"
    for script in ("tools/recipe.sh", "recipes/Multilingual16/ablate.sh", "recipes/MSP-Podcast/seeds.sh"):
        assert "embedded_data_root" in (ROOT / script).read_text(), script


def test_a_truncated_latest_checkpoint_is_set_aside_and_the_previous_one_used(tmp_path, capsys):
    import speechbrain as sb
    import torch

    from speechbrain_ser.train import set_aside_unreadable_checkpoints

    lin = torch.nn.Linear(3, 2)
    counter = sb.utils.epoch_loop.EpochCounter(5)   # saved as text, not by torch: must not count as unreadable
    ck = sb.utils.checkpoints.Checkpointer(tmp_path / "save", {"lin": lin, "counter": counter})
    torch.nn.init.constant_(lin.weight, 1.0)
    ck.save_checkpoint()
    time.sleep(1.1)  # checkpoint names carry the second
    torch.nn.init.constant_(lin.weight, 2.0)
    latest = ck.save_checkpoint()
    assert set_aside_unreadable_checkpoints(ck) == []    # intact (the counter's text file included)
    f = latest.path / "lin.ckpt"
    f.write_bytes(f.read_bytes()[:40])   # a save cut short
    aside = set_aside_unreadable_checkpoints(ck)
    assert [p.name for p in aside] == ["unreadable-" + latest.path.name]
    assert "does not load" in capsys.readouterr().err
    torch.nn.init.constant_(lin.weight, 0.0)
    ck.recover_if_possible()
    assert torch.all(lin.weight == 1.0)
