"""recipes/Multilingual16/conf/labels_real.yaml: the six real corpora's label config (extends
labels.yaml), every native label mapped, TESS training-only, one language zero-shot."""
from conftest import ROOT

CONFIG = ROOT / "recipes" / "Multilingual16" / "conf" / "labels_real.yaml"
SIX = ["ravdess", "tess", "emovo", "casia", "urdu", "ased"]


def test_the_real_config_extends_the_recipes_config():
    import yaml

    from speechbrain_ser.prepare import load_label_config

    cfg = load_label_config(CONFIG)
    base = yaml.safe_load((CONFIG.parent / "labels.yaml").read_text())
    assert cfg["corpora"] == SIX and cfg["held_out"] == [] and cfg["held_out_languages"] == ["ur"]
    assert cfg["training_only"] == ["tess"] and "extends" not in cfg
    # what it does not set is labels.yaml's, nested mappings included
    assert cfg["score_as"] == base["score_as"] and cfg["default_epsilon"] == base["default_epsilon"]
    assert base["neutral_smoothing"] is True and cfg["neutral_smoothing"] is False   # its own choice (dev UAR)


def test_every_native_label_of_the_six_corpora_has_a_mapping_row():
    from speechbrain_ser import corpora
    from speechbrain_ser.labels.harmonise import load_mapping, scoring_class
    from speechbrain_ser.prepare import load_label_config

    mapping, cfg = load_mapping(), load_label_config(CONFIG)
    for c in SIX:
        labels = set(corpora.get(c).LABELS)
        assert labels == set(mapping.corpora[c].rows), c
        for native in labels:
            t = mapping.target(c, native)
            assert abs(t.sum() - 1) < 1e-6 and scoring_class(mapping, c, native, cfg["score_as"]) is not None, (c, native)
    # hand values: RAVDESS calm is 0.8 neutral / 0.2 sadness, scored as neutral; TESS ps scored as surprise
    space = mapping.space.classes
    calm = dict(zip(space, mapping.target("ravdess", "calm")))
    assert calm["neutral"] == 0.8 and calm["sadness"] == 0.2
    assert scoring_class(mapping, "tess", "ps", cfg["score_as"]) == "surprise"
    assert scoring_class(mapping, "emovo", "pau", cfg["score_as"]) == "fear"


def _entries(corpus, language, speakers, labels):
    return {f"{corpus}_{s}_{lab}_{k}": {"wav": f"{{data_root}}/{corpus}/{s}_{lab}_{k}.flac", "speaker": f"{corpus}_{s}",
                                         "native": lab, "language": language, "split": None, "corpus": corpus,
                                         "intensity": None}
            for s in speakers for lab in labels for k in range(3)}


def test_stage_2_with_the_real_config_tess_trains_only_and_the_held_out_language_is_zero_shot():
    from speechbrain_ser.labels.targets import unified_targets
    from speechbrain_ser.prepare import apply_overrides, load_label_config

    manifests = {"ravdess": _entries("ravdess", "en", [f"a{i}" for i in range(6)], ["angry", "calm"]),
                 "tess": _entries("tess", "en", ["OAF", "YAF"], ["ps", "sad"]),
                 "emovo": _entries("emovo", "it", ["f1", "f2", "f3", "m1", "m2", "m3"], ["gio", "neu"]),
                 "urdu": _entries("urdu", "ur", ["SM1", "SF2", "SM3"], ["Angry", "Sad"])}
    cfg = load_label_config(CONFIG)
    out, summary = unified_targets(manifests, cfg)
    assert {e["split"] for e in out["tess"].values()} == {"train"}
    assert summary["corpora"]["tess"]["split_by"] == "training only"
    assert {e["split"] for e in out["urdu"].values()} == {"zeroshot"}
    for c in ("ravdess", "emovo"):  # speaker-disjoint: no speaker in two splits
        by = {}
        for e in out[c].values():
            by.setdefault(e["speaker"], set()).add(e["split"])
        assert all(len(v) == 1 for v in by.values()) and {"train", "dev", "test"} <= set().union(*by.values())
    # holding out English instead: RAVDESS and TESS both zero-shot, URDU split by speaker
    out, _ = unified_targets(manifests, apply_overrides(cfg, "held_out_languages=[en]"))
    assert {e["split"] for c in ("ravdess", "tess") for e in out[c].values()} == {"zeroshot"}
    assert "train" in {e["split"] for e in out["urdu"].values()}
