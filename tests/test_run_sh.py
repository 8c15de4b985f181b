import json

from conftest import ROOT, run


def test_help_lists_every_option_with_default():
    r = run(["./run.sh", "--help"])
    assert r.returncode == 0
    for opt in ("--recipe [Multilingual16]", "--stage [0]", "--stop-stage [5]", "--data-root",
                "--exp-dir", "--size [mini]", "--seed [0]"):
        assert opt in r.stdout
    r2 = run(["recipes/MSP-Podcast/run.sh", "--help"])
    assert r2.returncode == 0 and "--stop-stage [5]" in r2.stdout


def test_unknown_option_and_bad_values_fail_with_usage():
    r = run(["./run.sh", "--no-such-option", "1"])
    assert r.returncode != 0 and "unknown option --no-such-option" in r.stderr and "usage:" in r.stderr
    assert run(["./run.sh", "--stage", "two"]).returncode != 0
    assert "unknown recipe" in run(["./run.sh", "--recipe", "Nope"]).stderr


def test_stages_0_to_2_tiny(tmp_path):
    """Both option spellings; manifests and labels for all 16 corpora."""
    r = run(["./run.sh", "--size", "tiny", "--stage", "0", "--stop_stage", "2",
             "--exp-dir", str(tmp_path / "exp")])
    assert r.returncode == 0, r.stderr[-3000:]
    made = json.loads((ROOT / "data" / "synth_tiny_real" / ".synth.json").read_text())["counts"]  # the default: real voices
    counts = json.loads((tmp_path / "exp" / "data" / "manifests" / "counts.json").read_text())
    assert counts == made
    assert (tmp_path / "exp" / "data" / "labels" / "train.json").exists()
    # rerun: every stage is up to date
    r = run(["./run.sh", "--size", "tiny", "--stop-stage", "2", "--exp-dir", str(tmp_path / "exp")])
    assert r.returncode == 0 and "up to date" in r.stderr


def test_given_data_root_is_checked(tmp_path):
    (tmp_path / "empty").mkdir()
    r = run(["./run.sh", "--data-root", str(tmp_path / "empty"), "--stop-stage", "0",
             "--exp-dir", str(tmp_path / "exp")])
    assert r.returncode != 0 and "corpus folder(s) missing" in r.stderr


def test_a_path_with_an_equals_sign_is_refused_before_anything_is_written(tmp_path):
    """SpeechBrain's overrides split "--key=value" at every '=': such a path is refused by name."""
    r = run(["./run.sh", "--exp-dir", str(tmp_path / "a=b"), "--stop-stage", "0"])
    assert r.returncode != 0 and f"'{tmp_path / 'a=b'}' contains '='" in r.stderr
    (tmp_path / "real=1").mkdir()
    r = run(["./run.sh", "--data-root", str(tmp_path / "real=1"), "--exp-dir", str(tmp_path / "e"), "--stop-stage", "0"])
    assert r.returncode != 0 and f"'{tmp_path / 'real=1'}' contains '='" in r.stderr
    assert not (tmp_path / "a=b").exists() and not (tmp_path / "e").exists()


def test_helper_scripts_parse_their_options():
    for script, opt in (("recipes/Multilingual16/ablate.sh", "--variants"), ("recipes/Multilingual16/lolo.sh", "--languages"),
                        ("recipes/MSP-Podcast/seeds.sh", "--seeds")):
        r = run([script, "--help"])
        assert r.returncode == 0 and opt in r.stdout, script
        assert run([script, "--nope", "1"]).returncode != 0


def test_ablation_table_mean_and_std(tmp_path):
    from speechbrain_ser.report import ablation_report

    for variant, scores in (("full", (0.8, 0.6)), ("hard", (0.5, 0.7))):
        for seed, s in enumerate(scores):
            d = tmp_path / f"{variant}_seed{seed}" / "train" / "results"
            d.mkdir(parents=True)
            (d / "zero_shot.csv").write_text(
                "set,level,name,micro_f1,macro_f1\n"
                f"zeroshot_a,corpus,a,{s},{s}\nzeroshot_b,corpus,b,{s},{s}\ntest,all,all,0.9,0.9\n")
    # predictions of one run: neutral is the argmax of 3 of 4 scored rows, and 'sadness' is not
    # in the corpus's inventory, so restriction turns row 4 (sadness > neutral) into neutral as
    # well; row 5 has no hard reference (not counted); references: 1 neutral of 4
    results = tmp_path / "full_seed0" / "train" / "results"
    (results / "predictions_zeroshot_a.csv").write_text(
        "id,corpus,language,native,ref,p_neutral,p_anger,p_sadness\n"
        "u1,a,x,N,neutral,0.6,0.3,0.1\nu2,a,x,W,anger,0.5,0.4,0.1\n"
        "u3,a,x,W,anger,0.1,0.8,0.1\nu4,a,x,W,anger,0.3,0.1,0.6\n"
        "u5,a,x,L,,0.9,0.05,0.05\n")
    (results / "inventory.json").write_text('{"a": ["neutral", "anger"]}')
    md = ablation_report(tmp_path, None)
    # sample std (n - 1): std(0.8, 0.6) = 0.1414
    assert "| full | 2 | 0.700 ± 0.141 |" in md and "| hard | 2 | 0.600 ± 0.141 |" in md
    assert "| 0.750 ± n/a | 0.250 ± n/a |" in md  # only the run with predictions counts
