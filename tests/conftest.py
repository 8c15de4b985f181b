import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# ./run.sh options of the espeak-ng data and the fine-tuned Whisper system (the Multilingual16 default
# is real voices + frozen features, run end to end by test_speaker_norm.py and test_run_sh_tiny_end_to_end)
ESPEAK_WHISPER = ["--synth-voices", "espeak", "--hparams", "hparams/whisper_tiny.yaml"]
# run Python as if the GPL and non-commercial extras were not installed (tests/no_extras/sitecustomize.py)
# the embedded tiny data of espeak-ng voices as a user's corpus folder (the embedded_tiny fixture makes it)
EMBEDDED_TINY = ROOT / "data" / "synth_tiny"
NO_EXTRAS = {"PYTHONPATH": str(ROOT / "tests" / "no_extras")}


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true",
                     help="also run the long checks (marked long: more debug trainings of the same code paths)")


def pytest_configure(config):
    config.addinivalue_line("markers", "long: a long check, run with ./tests/run.sh --long")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--long"):
        return
    skip = pytest.mark.skip(reason="long check: run with ./tests/run.sh --long")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def embedded_tiny():
    """``data/synth_tiny``, the embedded tiny data of espeak-ng voices (``./run.sh --size tiny
    --synth-voices espeak`` makes the same folder, under the same lock), for the tests that run stages on
    it as a user's corpus folder (``--data-root``): made here, so each of them also runs alone."""
    from speechbrain_ser.synth.generate import generate

    generate(EMBEDDED_TINY, "tiny", seed=0, voices="espeak")
    return EMBEDDED_TINY


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory):
    """The embedded tiny data, generated once per test session."""
    from speechbrain_ser.synth.generate import generate

    root = tmp_path_factory.mktemp("data") / "synth_tiny"
    generate(root, "tiny", seed=0)
    return root


@pytest.fixture(scope="session")
def tiny_manifests(tiny_root, tmp_path_factory):
    from speechbrain_ser.prepare import stage_manifests
    from speechbrain_ser.synth import layouts

    out = tmp_path_factory.mktemp("exp") / "manifests"
    stage_manifests(tiny_root, out, layouts.NAMES)
    return out


@pytest.fixture(scope="session")
def whisper_dir():
    from speechbrain_ser.models.whisper_ct2 import ensure_converted

    return ensure_converted("tiny.en")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, cwd=kw.pop("cwd", ROOT),
                          env={**os.environ, **kw.pop("env", {})}, **kw)
