"""'ser-predict': an exported model applied to your audio.

    ser-predict --model exp/Multilingual16/mini/model my_audio/ --out predictions.csv
    ser-predict --model DIR a.wav b.flac --out predictions.jsonl
    ser-predict --model DIR data/wav.scp          # Kaldi "id path" lines
    ser-predict --model DIR manifest.json --data-root /corpora   # stage-1/2 manifests {id: {"wav": ...}}
    ser-predict --model DIR --backend onnx my_audio/   # onnxruntime, the model.onnx stage 4 wrote

Inputs are audio files, folders (searched recursively for .wav .flac .ogg .mp3
.aiff), Kaldi 'wav.scp' files, this project's JSON manifests, or CSV/TSV files
with a 'path' (or 'wav') column and an optional 'id' column. Output rows
(CSV or JSONL, chosen by '--format' or the file suffix; '-' = stdout): id,
path, seconds (audio used), windows, mode (lone: the file alone; speaker: with
'--groups'), label, p_<class> per class, and arousal, valence, dominance (1-7)
for models with attribute heads. Files are batched by duration. A file longer
than the model's training crop is predicted from windows of that length covering
the whole file (the mean of the windows; 'windows' says how many); '--crop' uses
its first seconds only. '--classes a,b,c' restricts each label to those classes
(as stage 4 scores a corpus with fewer classes): p_<class> are then those classes'
probabilities renormalised to sum 1, and full_p_<class> the model's over all of its classes.
A file that cannot be read is reported on stderr and skipped; the others are
predicted, and the exit status is 1 when any file failed (0 when none did).

Emotion over time (long audio; 'speechbrain_ser.timeline'):

    ser-predict --model DIR --window 3 --hop 1 meeting.wav --out meeting.csv

writes one row per window (id, start, end, label, p_<class>, arousal...) to
'--out', the merged segments (id, start, end, label, confidence; segments
shorter than '--min-segment' s are merged into a neighbour) to '--segments'
(default: '<out>.segments.csv' or '.jsonl' beside '--out') and one timeline
PNG per file to '--plots' (default: '<out>_timelines/' beside '--out').
With '--out -' only the rows are written unless '--segments'/'--plots' are given.
'--classes a,b,c' restricts the segments' labels to those classes.

Speaker-normalised models (trained with 'speaker_norm: True'): '--groups folder' normalises
each file with the statistics of all files in its folder (one folder = one speaker, whose files
should span their emotions), '--groups all' treats every input as one speaker; without
'--groups' each file is normalised with the training statistics (its prediction depends on
nothing else, but is less accurate). The torch backend only.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import warnings
from pathlib import Path

from .stage import csv_text, write_text_atomic

AUDIO = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}


def _unique_id(path: Path, base: Path | None) -> str:
    rel = path.relative_to(base) if base is not None else Path(path.name)
    return str(rel.with_suffix(""))


def collect_inputs(inputs: list, data_root: str | None = None) -> list:
    """[(id, path, transcript or None)] from files, folders, wav.scp, manifests, CSV/TSV lists."""
    items = []
    for arg in inputs:
        p = Path(arg)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.suffix.lower() in AUDIO and x.is_file()):
                items.append((_unique_id(f, p), str(f), None))
        elif p.suffix == ".scp" or p.name == "wav.scp":
            for n, line in enumerate(p.read_text().splitlines(), 1):
                if not line.strip():
                    continue
                parts = line.split(maxsplit=1)
                if len(parts) != 2 or parts[1].rstrip().endswith("|"):
                    raise SystemExit(f"{p}:{n}: want 'id path' (pipes are not supported): {line!r}")
                items.append((parts[0], parts[1].strip(), None))
        elif p.suffix == ".json":
            try:
                entries = json.loads(p.read_text())
            except ValueError as e:
                raise SystemExit(f"{p}: not a JSON manifest ({e})") from None
            for uid, e in entries.items():
                if not isinstance(e, dict) or "wav" not in e:
                    raise SystemExit(f"{p}: entry {uid!r} has no 'wav' field")
                wav = e["wav"]
                if "{data_root}" in wav:
                    if not data_root:
                        raise SystemExit(f"{p}: paths use {{data_root}}; pass --data-root")
                    wav = wav.replace("{data_root}", data_root)
                items.append((uid, wav, e.get("transcript")))
        elif p.suffix in (".csv", ".tsv"):
            with open(p, newline="") as f:
                rows = list(csv.DictReader(f, delimiter="\t" if p.suffix == ".tsv" else ","))
            col = "path" if rows and "path" in rows[0] else "wav"
            for n, r in enumerate(rows, 2):
                if not r.get(col):
                    raise SystemExit(f"{p}:{n}: no '{col}' value")
                items.append((r.get("id") or Path(r[col]).stem, r[col], r.get("transcript")))
        elif p.exists() or p.suffix.lower() in AUDIO:
            items.append((p.stem, str(p), None))  # a missing audio file is reported like an unreadable one
        else:
            raise SystemExit(f"{p}: no such file or folder")
    seen = {}
    for uid, path, _ in items:
        if uid in seen and seen[uid] != path:
            raise SystemExit(f"id {uid!r} names two files: {seen[uid]} and {path}")
        seen[uid] = path
    return items


def _prediction_columns(r: dict, classes, attributes, allowed=None) -> dict:
    """label, p_<class>... and arousal/valence/dominance of one prediction (a file or a window).
    ``allowed`` (``--classes``): p_<class> of those classes only, renormalised to sum 1 (the label is
    their argmax), and the model's probabilities over all its classes as full_p_<class>."""
    row = {}
    if classes:
        row["label"] = r["label"]
        if allowed:
            total = sum(r["probs"][c] for c in allowed) or 1.0
            row.update({f"p_{c}": round(r["probs"][c] / total, 6) for c in allowed})
            row.update({f"full_p_{c}": round(r["probs"][c], 6) for c in classes})
        else:
            row.update({f"p_{c}": round(r["probs"][c], 6) for c in classes})
    row.update({a: round(r[a], 4) for a in attributes})
    return row


def rows_of(items, results, classes, attributes, allowed=None, mode: str = "lone") -> list:
    """One row per predicted file; ``mode``: lone (each file alone) or speaker (normalised with its
    group's files, ``--groups``), as stage 4's prediction files say."""
    return [{"id": uid, "path": path, "seconds": r["seconds"], "windows": r.get("windows", 1), "mode": mode,
             **_prediction_columns(r, classes, attributes, allowed)}
            for (uid, path, _), r in zip(items, results) if r is not None]


def window_rows(uid: str, tl: dict, classes, attributes, allowed=None) -> list:
    """Flat rows (id, start, end, label, p_<class>..., arousal...) of a timeline's windows."""
    return [{"id": uid, "start": r["start"], "end": r["end"], **_prediction_columns(r, classes, attributes, allowed)}
            for r in tl["windows"]]


def write_rows(rows: list, out: str, fmt: str):
    if fmt == "jsonl":
        text = "".join(json.dumps(r) + "\n" for r in rows)
    else:
        text = csv_text(list(rows[0]), rows) if rows else ""
    if out == "-":
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


def quiet_libraries():
    """No transformers deprecation notes or weight-loading progress bars on a user's stderr: what
    ser-predict prints there is its own (progress, skipped files, the summary)."""
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="ser-predict", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("inputs", nargs="+", help="audio files, folders, wav.scp, manifest .json, .csv/.tsv lists")
    ap.add_argument("--model", required=True, help="an exported model folder (stage 4's <exp>/model) or hub name")
    ap.add_argument("--out", default="-", help="output file (.csv or .jsonl); - = stdout (default)")
    ap.add_argument("--format", choices=["csv", "jsonl"], default=None, help="default: from --out's suffix, else csv")
    ap.add_argument("--batch-size", type=int, default=8,
                    help="files (or timeline windows) per forward pass; larger is faster and uses more memory "
                         "(default 8)")
    ap.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when present, else cpu)")
    ap.add_argument("--data-root", default=None, help="replaces {data_root} in manifest paths")
    ap.add_argument("--savedir", default=None, help="where SpeechBrain collects a hub model's files")
    ap.add_argument("--no-calibration", action="store_true",
                    help="raw softmax instead of the temperature-calibrated probabilities")
    ap.add_argument("--crop", action="store_true",
                    help="predict a file longer than the model's training crop from its first seconds only "
                         "(default: windows covering the whole file, averaged)")
    ap.add_argument("--classes", default=None,
                    help="comma-separated classes each label (and timeline segment) may take")
    ap.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], default="torch",
                    help="torch (default), or the model's ONNX graph on onnxruntime (model.onnx / "
                         "model.int8.onnx, written by stage 4; CPU)")
    ap.add_argument("--groups", choices=["folder", "all"], default=None,
                    help="speaker-normalised models: normalise each file with its folder's files (folder) or with "
                         "all inputs (all); default: the training statistics")
    t = ap.add_argument_group("emotion over time (long audio)")
    t.add_argument("--window", type=float, default=None, help="window length in seconds (turns the timeline on)")
    t.add_argument("--hop", type=float, default=1.0, help="seconds between window starts (default 1)")
    t.add_argument("--min-segment", type=float, default=2.0,
                   help="shorter segments are merged into a neighbour (seconds, default 2)")
    t.add_argument("--segments", default=None, help="segments file (default: beside --out)")
    t.add_argument("--plots", default=None, help="folder for one timeline PNG per file (default: beside --out)")
    a = ap.parse_args(argv)
    fmt = a.format or ("jsonl" if a.out.endswith(".jsonl") else "csv")

    from tqdm import tqdm

    from .inference import load

    quiet_libraries()
    items = collect_inputs(a.inputs, a.data_root)
    if not items:
        print("ser-predict: no audio found in the inputs", file=sys.stderr)
        return 2
    local = Path(a.model)
    if local.exists() or a.model.startswith((".", "/", "~")) or a.model.count("/") != 1:  # not a hub name
        if not (local / "hyperparams.yaml").is_file():
            raise SystemExit(f"ser-predict: no model folder at {a.model}" + (
                " (it has no hyperparams.yaml: stage 4 writes <exp-dir>/model)" if local.is_dir() else ""))
    if a.backend == "torch":
        try:
            model = load(a.model, a.savedir, a.device)
        except (OSError, ValueError) as e:  # a hub name that does not resolve (offline, misspelt)
            raise SystemExit(f"ser-predict: cannot load the model {a.model}: {str(e).splitlines()[0][:300]}") from None
        model.calibrated = not a.no_calibration
    else:
        from .onnx_export import OnnxRecognizer

        if a.no_calibration:
            raise SystemExit("ser-predict: the ONNX graph has the calibration temperature built in; "
                             "--no-calibration needs --backend torch")
        try:
            model = OnnxRecognizer(a.model, int8=a.backend == "onnx-int8")
        except FileNotFoundError as e:
            raise SystemExit(f"ser-predict: {e}") from None
    classes = [c.strip() for c in a.classes.split(",") if c.strip()] if a.classes else None
    try:
        model.check_classes(classes)
    except ValueError as e:
        raise SystemExit(f"ser-predict: --{e}") from None
    groups = None
    if a.groups:
        if a.backend != "torch":
            from .onnx_export import NO_GROUPS

            raise SystemExit(f"ser-predict: --groups is for speaker-normalised models on the PyTorch backend: {NO_GROUPS}")
        if not model.speaker_normalised:
            raise SystemExit("ser-predict: --groups is for speaker-normalised models; this one was not trained "
                             "with speaker_norm")
        if a.window is not None:
            raise SystemExit("ser-predict: --groups with --window is not supported (a timeline is one recording)")
        groups = [str(Path(p).absolute().parent) if a.groups == "folder" else "all" for _, p, _ in items]
        alone = [p for (_, p, _), g in zip(items, groups) if groups.count(g) == 1]
        if alone:
            print(f"ser-predict: warning: {len(alone)} file(s) alone in their group (e.g. {alone[0]}): each is "
                  "normalised with its own statistics only, which removes what sets it apart; give a speaker's "
                  "files together, or leave out --groups (the training statistics)", file=sys.stderr)
    if a.window is not None:
        return timelines(model, items, a, fmt)
    texts = [t or "" for _, _, t in items] if model.needs_transcript else None
    results, failed = [None] * len(items), []
    with tqdm(total=len(items), desc="ser-predict", unit="file", file=sys.stderr) as bar:
        for i, r in model.predict_files([p for _, p, _ in items], a.batch_size, texts, progress=bar, crop=a.crop,
                                        classes=classes, groups=groups):
            if isinstance(r, Exception):
                failed.append(str(r))
                tqdm.write(f"ser-predict: skipped {r}", file=sys.stderr)
            else:
                results[i] = r
    write_rows(rows_of(items, results, model.classes, model.attributes, classes, "speaker" if groups else "lone"),
               a.out, fmt)
    done = len(items) - len(failed)
    where = "" if a.out == "-" else f" -> {a.out}"
    print(f"ser-predict: {done} of {len(items)} files predicted{where}"
          + (f"; {len(failed)} failed (listed above)" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def timelines(model, items: list, a, fmt: str) -> int:
    """``--window``: per-window rows, merged segments and a timeline PNG per file."""
    from tqdm import tqdm

    from .audio import AudioError
    from .timeline import plot_timeline

    if model.needs_transcript:
        raise SystemExit("ser-predict: --window needs an audio-only model (this one fuses a transcript)")
    if not model.classes and (a.segments or a.classes):
        raise SystemExit("ser-predict: this model has no categorical head: no segments (rows give A/V/D)")
    classes = [c.strip() for c in a.classes.split(",") if c.strip()] if a.classes else None
    stem = None if a.out == "-" else str(Path(a.out).with_suffix(""))
    seg_out = a.segments or (f"{stem}.segments.{fmt}" if stem and model.classes else None)
    plots = Path(a.plots) if a.plots else (Path(f"{stem}_timelines") if stem else None)
    rows, seg_rows, failed = [], [], []
    for uid, path, _ in tqdm(items, desc="ser-predict", unit="file", file=sys.stderr):
        try:
            tl = model.predict_timeline(path, a.window, a.hop, a.min_segment, a.batch_size, classes)
        except AudioError as e:
            failed.append(str(e))
            tqdm.write(f"ser-predict: skipped {e}", file=sys.stderr)
            continue
        rows += window_rows(uid, tl, model.classes, model.attributes, classes)
        # the segments file names a segment's class as the rows name a window's: label
        seg_rows += [{"id": uid, **{("label" if k == "emotion" else k): v for k, v in s.items()}}
                     for s in tl["segments"]]
        if plots is not None:
            plots.mkdir(parents=True, exist_ok=True)
            plot_timeline(tl, plots / f"{uid.replace('/', '__')}.png", model.classes, model.attributes, title=uid)
    write_rows(rows, a.out, fmt)
    if seg_out:
        write_rows(seg_rows, seg_out, "jsonl" if seg_out.endswith(".jsonl") else "csv")
    done = len(items) - len(failed)
    wrote = [x for x in (None if a.out == "-" else a.out, seg_out, plots and f"{plots}/") if x]
    print(f"ser-predict: timelines of {done} of {len(items)} files ({len(rows)} windows, {len(seg_rows)} "
          f"segments)" + (f" -> {', '.join(map(str, wrote))}" if wrote else "")
          + (f"; {len(failed)} failed (listed above)" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def entry_point():
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
