"""The core is Apache-2.0 and needs no GPL or non-commercial package: praat-parselmouth (GPLv3+,
stage 0's emotion rendering), openSMILE (research licence, the eGeMAPS upstream) and krippendorff
(GPLv3+, a test-only cross-check) are extras, imported only where used, with an error naming the
extra. The stages and ser-predict running without them: test_inference.py's ``trained`` fixture
and its ser-predict test (``NO_EXTRAS``)."""
import sys
import tomllib

from conftest import NO_EXTRAS, ROOT, run

EXTRAS = {"praat-parselmouth": "parselmouth", "opensmile": "opensmile", "krippendorff": "krippendorff"}


def test_no_gpl_or_non_commercial_package_is_a_core_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in project["dependencies"]}
    assert not core & set(EXTRAS), core & set(EXTRAS)
    extras = project["optional-dependencies"]
    assert extras["rendering"] == ["praat-parselmouth"] and extras["egemaps"] == ["opensmile"]
    readme = (ROOT / "README.md").read_text()
    for name in core:  # the README's licence section lists every core dependency
        assert f"`{name}`" in readme, f"{name} is not in the README's licence list"


def test_every_module_imports_without_the_extras():
    code = ("import importlib, pkgutil, sys, speechbrain_ser\n"
            "mods = [m.name for m in pkgutil.walk_packages(speechbrain_ser.__path__, 'speechbrain_ser.')\n"
            "        if not m.name.endswith('__main__')]  # a __main__ runs its command line when imported\n"
            "for m in mods: importlib.import_module(m)\n"
            f"bad = sorted({set(EXTRAS.values())!r} & set(sys.modules))\n"
            "assert not bad, bad\n"
            "print(len(mods))\n")
    r = run([sys.executable, "-c", code], env=NO_EXTRAS)
    assert r.returncode == 0, r.stderr[-3000:]
    assert int(r.stdout) > 40


def test_a_missing_extra_is_an_error_naming_it():
    code = ("import numpy as np\n"
            "from speechbrain_ser.synth.emotion_rendering import identity_params, prosody\n"
            "prosody(np.zeros(16000, np.float32), identity_params(), np.random.default_rng(0))\n")
    r = run([sys.executable, "-c", code], env=NO_EXTRAS)
    assert r.returncode != 0 and "pip install 'speechbrain_ser[rendering]'" in r.stderr, r.stderr[-2000:]
    r = run([sys.executable, "-c", "from speechbrain_ser.models.egemaps import EgemapsUpstream; EgemapsUpstream()"],
            env=NO_EXTRAS)
    assert r.returncode != 0 and "pip install 'speechbrain_ser[egemaps]'" in r.stderr, r.stderr[-2000:]
    r = run([sys.executable, "-c", "import parselmouth"], env=NO_EXTRAS)
    assert r.returncode != 0 and "blocked" in r.stderr  # the stand-in for a machine without the extras
