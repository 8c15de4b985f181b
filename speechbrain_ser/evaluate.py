"""Stage 4 of both recipes: export, predict through the exported model, score.

    python -m speechbrain_ser.evaluate --task zero-shot|msp --train-dir E/train --labels E/data/labels \\
        --data-root D [--model-dir E/model] [--results E/train/results]

1. ``export_model``: the selected checkpoint → ``--model-dir`` (default ``<train-dir>/../model``).
2. ``predict``: the development set and every evaluation set's utterances (all of them, labelled or not) with
   ``inference.EmotionRecognizer`` loaded from that folder: the same code path
   ``ser-predict`` and users take, so the reported numbers are those of the
   artifact users load. One file per set, ``predictions_<set>.csv``: id, corpus,
   language, native (the corpus's label), ref (the hard label scored, empty if
   none), ``p_<class>`` per class, and arousal, valence, dominance (1-7) for
   models with attribute heads. These are ``lone`` predictions: each file alone, as
   ``ser-predict FILE`` gives it. A speaker-normalised model is also scored in the
   ``speaker`` mode (``speaker/predictions_<set>.csv``): each file normalised with the
   statistics of all of its speaker's files in the set, itself included, which is
   transductive (``prediction_files.MODES``). Every score table has a ``mode`` column.
3. ``calibrate_and_write`` (softmax heads): one temperature fitted on the development set's lone
   predictions (minimum NLL, ``calibration.py``), stored in the model's ``hyperparams.yaml``;
   ``calibration.csv`` gives ECE, NLL, Brier and, where annotators' distributions
   exist, Jensen-Shannon divergence per mode and set before and after (the speaker
   mode with the same temperature); ``reliability.png`` (lone).
   The ``p_`` columns are the calibrated probabilities the exported model outputs.
4. ``score``: the task's scoring on those files: ``zero_shot.score`` (Multilingual16:
   class restriction, per corpus/language tables) or ``msp.scoring.score``
   (MSP-Podcast: thresholds, metrics, CCC, challenge submissions).
5. ``extras``, optional, a stage of their own in ``<results>/shift/`` that starts once the
   predictions and scores above are written and marked (a failure or a crash there keeps them,
   and a rerun goes on from the extras): the ONNX graphs (``onnx_export``; a model it does not
   cover is reported and left without), and emotion over time: from each scored set's labelled utterances,
   ``emotion_shift`` makes emotion-shift files (one speaker, 3 emotions of 4-6 s
   each, ``SHIFT["per_corpus"]`` files per corpus) in ``shift/<set>/``; the calibrated
   model's ``predict_timeline`` (3 s windows, 1 s hop, 2 s minimum segment;
   segment emotions restricted to the corpus's class inventory as in the
   zero-shot scoring) is scored against the reference segments
   (``timeline.score_timeline``, boundary tolerance = one hop): ``shift_scores.csv``
   (per set × corpus, per set, all), ``shift_segments.csv`` (reference and model
   segments of every file) and ``shift_timeline.png`` (one file of a held-out
   corpus when there is one).

A stage with a marker: rerunning on the same finished training run and labels
does nothing; every file is written atomically.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .prediction_files import modes_of, prediction_file, write_head_output, write_predictions
from .stage import Stage, fingerprint, read_entries, write_csv_atomic, write_json_atomic


def scored_sets(task: str, labels: Path) -> list:
    """The evaluation sets the task scores (zero-shot: test and every held-out corpus; MSP-Podcast: its test sets)."""
    if task == "zero-shot":
        from .zero_shot import eval_sets

        return eval_sets(labels)
    from .msp import SETS

    return [s for s in SETS if (labels / f"{s}.json").exists()]


def predict_set(model, entries: dict, data_root: str, batch_size: int = 8, mode: str = "lone", hidden=None):
    """(ids in manifest order, probs (N, C) or None, attributes (N, 3) or None, {row: (W, C) window
    probabilities} of the files longer than the crop, predicted from windows) through the model, in
    scoring mode ``mode`` (``prediction_files.MODES``: ``lone``, or ``speaker`` for a speaker-normalised model);
    ``hidden``: the upstream's cached hidden states of the files (``feature_cache.cached_hidden``) or None."""
    ids = list(entries)
    paths = [entries[u]["wav"].replace("{data_root}", str(data_root)) for u in ids]
    texts = [entries[u].get("transcript") or "" for u in ids] \
        if model.needs_transcript else None
    if mode not in modes_of(model):
        raise ValueError(f"scoring mode {mode!r} is not one of this model's ({', '.join(modes_of(model))})")
    # speaker mode: each utterance normalised with its speaker's statistics (transductive)
    groups = [entries[u].get(model.speaker_norm_group) for u in ids] if mode == "speaker" else None
    results = [None] * len(ids)
    for i, r in model.predict_files(paths, batch_size, texts, groups=groups, hidden=hidden):
        if isinstance(r, Exception):
            raise SystemExit(f"stage 4: {r} (utterance {ids[i]})")
        results[i] = r
    probs = np.array([[r["probs"][c] for c in model.classes] for r in results]) if model.classes else None
    attrs = np.array([[r[a] for a in model.attributes] for r in results]) if model.attributes else None
    windows = {i: np.array([[w[c] for c in model.classes] for w in r["window_probs"]])
               for i, r in enumerate(results) if "window_probs" in r}
    return ids, probs, attrs, windows


def annotator_distribution(e: dict):
    """The annotators' distribution over the task's classes, where the corpus has votes:
    MSP-Podcast's primary-vote target ``P``; other corpora's vote-based target before smoothing."""
    d = e.get("P") if "P" in e else (e.get("target_raw") if e.get("target_source") == "votes" else None)
    return d if d is not None and sum(d) > 0 else None


def calibrate(model_dir: Path, labels: Path, predictions: dict, classes: list, results: Path, head_output: str):
    """Fit the temperature on dev's ``lone`` predictions (what the exported model gives a file alone),
    store it in the model, write ``calibration.csv`` (before/after per mode and set; the ``speaker``
    mode is measured with the same temperature) and ``reliability.png``; returns T (None when the
    head is not a softmax or dev has no labels). ``predictions``: {mode: {set: (ids, probs, ...)}}."""
    from .calibration import fit_temperature, measures, reliability_diagram, scale
    from .class_scores import distribution

    scored = {}
    for mode, sets in predictions.items():
        for name, (ids, probs, *_) in sets.items():
            entries = read_entries(labels / f"{name}.json")
            rows = [i for i, u in enumerate(ids) if entries[u].get("hard") in classes]
            if probs is None or not rows:
                continue
            refs = np.array([classes.index(entries[ids[i]]["hard"]) for i in rows])
            dists = [(k, annotator_distribution(entries[ids[i]])) for k, i in enumerate(rows)]
            dists = [(k, np.asarray(d, float) / sum(d)) for k, d in dists if d is not None]
            scored[(mode, name)] = (probs[rows], refs, dists)
    if not scored:
        return None
    softmax = head_output == "softmax"
    if not softmax:  # sigmoid or MSE scores: measured as class_scores.distribution, not scaled
        scored = {n: (distribution(p, head_output), r, d) for n, (p, r, d) in scored.items()}
    t = fit_temperature(*scored[("lone", "dev")][:2]) if softmax and ("lone", "dev") in scored else None
    out = []
    for (mode, name), (probs, refs, dists) in scored.items():
        row = {"mode": mode, "set": name, "temperature": round(t, 4) if t else "n/a",
               "fitted_on": ("lone dev (in-sample)" if (mode, name) == ("lone", "dev") else "lone dev") if t else
               (f"{head_output} head: scores as a distribution (class_scores), no temperature" if not softmax
                else "no labelled dev set")}
        for tag, p in (("before", probs), ("after", scale(probs, t) if t else None)):
            if p is None:
                continue
            m = measures(p, refs, np.array([d for _, d in dists]) if dists else None)
            row["n"], row["n_jsd"] = m["n"], len(dists)
            row.update({f"{k}_{tag}": round(m[k], 4) for k in ("ece", "nll", "brier", "jsd") if k in m})
        out.append(row)
    fields = ["mode", "set", "n", "temperature", "fitted_on"] + [f"{k}_{t_}" for k in ("ece", "nll", "brier")
                                                                 for t_ in ("before", "after")] \
        + ["n_jsd", "jsd_before", "jsd_after"]
    write_csv_atomic(results / "calibration.csv", fields, [{k: r.get(k, "") for k in fields} for r in out])
    panels = {n: scored[("lone", n)][:2] for n in [n for m, n in scored if m == "lone"][:5]}
    reliability_diagram(panels, t, results / "reliability.png")
    if t is not None:
        from .export import set_temperature

        set_temperature(model_dir, t)
    return t


SHIFT = dict(window=3.0, hop=1.0, min_segment=2.0, per_corpus=3, n_emotions=3, seconds=(4.0, 6.0), seed=0)


def evaluate_shift(model, labels: Path, sets: list, data_root: str, out: Path, allowed_of: dict | None):
    """Stage 4's emotion-shift evaluation into ``out`` (see the module docstring); ``allowed_of``: corpus ->
    class names."""
    from .emotion_shift import make_shift_set
    from .timeline import aggregate, plot_timeline, score_timeline, single_label_accuracy

    rows, seg_rows, per_file, example = [], [], {}, None
    # windows no longer than the model's training crops (debug runs train on shorter ones)
    window = min(SHIFT["window"], model.max_seconds or SHIFT["window"])
    settings = dict(SHIFT, window=window, tolerance=SHIFT["hop"])
    tol = settings["tolerance"]
    for name in sets:
        entries = read_entries(labels / f"{name}.json")
        ref = make_shift_set(entries, data_root, out / name, SHIFT["per_corpus"], SHIFT["n_emotions"],
                             SHIFT["seconds"], SHIFT["seed"], name)
        for fid, r in ref.items():
            allowed = allowed_of.get(r["corpus"]) if allowed_of else None
            tl = model.predict_timeline(r["wav"], window, SHIFT["hop"], SHIFT["min_segment"], classes=allowed)
            sc = score_timeline(tl["segments"], r["segments"], tol)
            sc["chance"] = 1 / len(allowed or model.classes)
            sc["single_label"] = single_label_accuracy(r["segments"])
            per_file[fid] = (name, r, sc)
            seg_rows += [dict(id=fid, source="reference", confidence="", **x) for x in r["segments"]]
            seg_rows += [dict(id=fid, source="model", **x) for x in tl["segments"]]
            if example is None or (not example[0].startswith("zeroshot_") and name.startswith("zeroshot_")):
                example = (name, fid, tl, r)
    groups: dict = {}
    for fid, (name, r, sc) in per_file.items():
        keys = [(name, r["corpus"], r["language"]), (name, "all", ""), ("all", "all", "")]
        if name.startswith("zeroshot_"):
            keys.append(("zeroshot (all held-out)", "all", ""))
        for key in keys:
            groups.setdefault(key, []).append(sc)
    n_corpora = {name: len({r["corpus"] for n, r, _ in per_file.values() if n == name}) for name in sets}
    for (name, corpus, language), scs in sorted(groups.items(), key=lambda kv: (
            kv[0][0] == "all", kv[0][0].startswith("zeroshot ("), kv[0][0], kv[0][1] == "all", kv[0][1])):
        if corpus == "all" and n_corpora.get(name) == 1:
            continue  # the set's one corpus row says it
        agg = aggregate(scs)
        w = [s["seconds"] for s in scs]
        rows.append(dict(set=name, corpus=corpus, language=language, **{k: round(v, 4) for k, v in agg.items()},
                         chance_frame_accuracy=round(float(np.average([s["chance"] for s in scs], weights=w)), 4),
                         single_label_frame_accuracy=round(float(np.average([s["single_label"] for s in scs],
                                                                            weights=w)), 4)))
    fields = ["set", "corpus", "language", "files", "seconds", "frame_accuracy", "segment_precision",
              "segment_recall", "segment_f1", "order_correct", "chance_frame_accuracy", "single_label_frame_accuracy"]
    write_csv_atomic(out / "shift_scores.csv", fields, rows)
    write_json_atomic(out / "shift_settings.json", settings)
    write_csv_atomic(out / "shift_segments.csv", ["id", "source", "start", "end", "emotion", "confidence"],
                     seg_rows)
    if example:
        name, fid, tl, r = example
        plot_timeline(tl, out / "shift_timeline.png", model.classes, model.attributes, r["segments"],
                      title=f"{fid} ({r['corpus']}, {r['language']}; {name}): model vs reference segments")
    return rows


def run(task: str, train_dir: Path, labels: Path, data_root: str, model_dir: Path | None = None,
        results: Path | None = None, batch_size: int = 8, device: str | None = None):
    """Stage 4 as its steps (the module docstring says what each writes)."""
    train_dir = Path(train_dir)
    results = Path(results) if results else train_dir / "results"
    options = {"task": task, "train": fingerprint(train_dir), "labels": fingerprint(labels), "shift": SHIFT}
    with Stage(results, options, "stage 4 evaluate") as st:  # predictions and scores: marked before any extra
        if st.done:
            print(f"stage 4: {results} is up to date (same training run and labels)")
        else:
            model_dir, model = export_model(train_dir, model_dir, device)
            scored, entries = scored_sets(task, labels), {}
            # the development set too (the temperature is fitted on it) unless already scored or absent
            with_dev = "dev" not in scored and (labels / "dev.json").exists()
            raw = predict(model, train_dir, labels, data_root, ["dev", *scored] if with_dev else scored,
                          batch_size, entries)
            predictions = calibrate_and_write(model, model_dir, labels, raw, entries, results, scored)
            score(task, results, labels, predictions)
            del model
    model_dir = Path(model_dir) if model_dir else train_dir.parent / "model"
    # the optional extras in a folder of their own: a failure there keeps the predictions and scores,
    # and a rerun goes on from the extras
    with Stage(results / "shift", options, "stage 4 extras") as st:
        if st.done:
            print(f"stage 4: {results / 'shift'} is up to date; nothing to do")
            return
        extras(task, model_dir, labels, [n for n in scored_sets(task, labels) if n != "dev"], data_root,
               results / "shift", device=device,  # zero-shot scoring's corpus -> classes (inventory.json)
               allowed_of=read_entries(results / "inventory.json") if task == "zero-shot" else None)


def export_model(train_dir: Path, model_dir: Path | None, device: str | None = None):
    """Step 1: the selected checkpoint → the model folder (temperature 1 until calibrated), and that
    folder loaded as users load it on ``device`` (None: CUDA when present), raw softmax (the
    temperature is fitted on its outputs)."""
    from .export import export
    from .inference import load

    model_dir = export(train_dir, model_dir, force=True)
    model = load(model_dir, device=device)  # a local folder: SpeechBrain reads its files in place
    model.calibrated = False
    return model_dir, model


def predict(model, train_dir: Path, labels: Path, data_root: str, names: list, batch_size: int,
            entries: dict) -> dict:
    """Step 2: {mode: {set: predict_set(...)}} for every set of ``names`` in every scoring mode of the
    model (lone; speaker too for a speaker-normalised model); fills ``entries`` {set: manifest}. A
    training run with a cached frozen upstream lends its hidden states (``feature_cache.cached_hidden``)."""
    import torch

    from .export import read_training
    from .feature_cache import cached_hidden

    training = read_training(train_dir)[1]
    raw = {m: {} for m in modes_of(model)}
    t0, n = time.perf_counter(), 0
    device = str(getattr(model, "device", "cpu"))  # a backend without one (onnxruntime) runs on the CPU
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    for name in names:
        entries[name] = read_entries(labels / f"{name}.json")
        hidden = cached_hidden(model, training, name, labels / f"{name}.json", data_root) \
            if training.get("cache_features") is True else None
        for mode in raw:
            raw[mode][name] = predict_set(model, entries[name], data_root, batch_size, mode, hidden)
            print(f"stage 4: predicted {len(raw[mode][name][0])} utterances of {name} "
                  f"({'lone: each file alone' if mode == 'lone' else mode + ' mode: transductive'})")
            n += len(raw[mode][name][0])
    secs = time.perf_counter() - t0
    peak = f", peak GPU memory {torch.cuda.max_memory_allocated(device) / 2**30:.3f} GiB" if cuda else ""
    print(f"stage 4: {n} predictions in {secs:.1f} s ({n / max(secs, 1e-9):.1f} files/s) on {device}{peak}")
    return raw


def calibrated(probs, windows: dict, t: float | None):
    """The probabilities the calibrated model outputs: each row scaled by temperature ``t`` (None: as
    they are); a file predicted from windows (``windows`` {row: (W, C)}) is the mean of its scaled windows."""
    from .calibration import scale

    if t is None or probs is None:
        return probs
    probs = scale(probs, t)
    for i, w in windows.items():
        probs[i] = scale(w, t).mean(0)
    return probs


def calibrate_and_write(model, model_dir: Path, labels: Path, raw: dict, entries: dict, results: Path,
                        scored: list) -> dict:
    """Step 3: the temperature fitted on dev (``calibrate``, stored in the model folder), every set's
    calibrated predictions written (``predictions_<set>.csv`` per mode); returns the scored sets'
    {mode: {set: (ids, probs, attributes)}}."""
    write_head_output(results, model.head_output)
    t = calibrate(model_dir, labels, raw, model.classes, results, model.head_output) if model.classes else None
    if t is not None:
        print(f"stage 4: temperature {t:.3f} fitted on lone dev predictions (stored in {model_dir / 'hyperparams.yaml'})")
    predictions = {m: {} for m in raw}
    for mode, sets in raw.items():
        for name, (ids, probs, attrs, windows) in sets.items():
            probs = calibrated(probs, windows, t)
            write_predictions(prediction_file(results, name, mode), entries[name], ids, model.classes, probs, attrs)
            if name in scored:
                predictions[mode][name] = (ids, probs, attrs)
    return predictions


def score(task: str, results: Path, labels: Path, predictions: dict):
    """Step 4: the task's scoring of the written predictions (``zero_shot.score`` or ``msp.scoring.score``)."""
    if task == "zero-shot":
        from .zero_shot import score as task_score
    else:
        from .msp.scoring import score as task_score
    print(f"stage 4: wrote {task_score(results, labels, predictions)}")


def extras(task: str, model_dir: Path, labels: Path, sets: list, data_root: str, out: Path,
           allowed_of: dict | None = None, device: str | None = None):
    """Step 5: the ONNX graphs of the calibrated model, and emotion over time on emotion-shift files
    made from ``sets`` (``evaluate_shift``, into ``out``) with the model as users load it on
    ``device``; ``allowed_of``: the zero-shot scoring's corpus -> classes (None: no restriction)."""
    from .inference import load

    _onnx(model_dir)
    model = load(model_dir, device=device)
    if not model.classes:
        return
    rows = evaluate_shift(model, labels, sets, data_root, out, allowed_of)
    if rows:
        overall = rows[-1]
        print(f"stage 4: emotion-shift files: {overall['files']} files, frame accuracy "
              f"{overall['frame_accuracy']:.3f}, segment F1 {overall['segment_f1']:.3f} "
              f"-> {out / 'shift_scores.csv'}")


def _onnx(model_dir: Path):
    """The model's ONNX graphs (float32 and int8) for ``ser-predict --backend onnx``, after the
    temperature is stored. An optional extra: a model the export does not cover (another upstream,
    weights over protobuf's 2 GiB) or an export that fails is reported, and stage 4 goes on."""
    from .onnx_export import export_onnx

    try:
        paths = export_onnx(model_dir, int8=True)
        print("stage 4: ONNX export -> " + ", ".join(p.name for p in paths))
    except NotImplementedError as e:
        print(f"stage 4: no ONNX export ({e})")
    except Exception as e:  # noqa: BLE001 - an optional artifact: the model folder is complete without it
        print(f"stage 4: warning: the ONNX export failed ({type(e).__name__}: {str(e).splitlines()[0][:300]}); "
              f"the model folder is complete without it; retry with python -m speechbrain_ser.onnx_export "
              f"--model {model_dir} --int8", file=sys.stderr)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m speechbrain_ser.evaluate", description=__doc__.split("\n")[0])
    ap.add_argument("--task", required=True, choices=["zero-shot", "msp"])
    ap.add_argument("--train-dir", required=True, type=Path)
    ap.add_argument("--labels", required=True, type=Path, help="stage-2 labels folder")
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--model-dir", type=Path, default=None, help="default: <train-dir>/../model")
    ap.add_argument("--results", type=Path, default=None, help="default: <train-dir>/results")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when present, else cpu)")
    a = ap.parse_args(argv)
    run(a.task, a.train_dir, a.labels, a.data_root, a.model_dir, a.results, a.batch_size, a.device)


if __name__ == "__main__":
    main()
