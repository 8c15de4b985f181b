"""Multilingual16 on real speech: leave-one-language-out over the six real corpora, ingredient
ablations, EmoBox's in-domain folds, and what a split that ignores speakers leaks.

    .venv/bin/python benchmarks/real_multilingual.py lolo --real-root ../shared/real
        [--languages en it zh ur am] [--seeds 0 1 2] [--variants full] [--out exp/real_multilingual] [--jobs 2]
    .venv/bin/python benchmarks/real_multilingual.py emobox --real-root ../shared/real
        --emobox ../shared/emobox/data [--corpora ravdess emovo casia urdu tess ased] [--folds N]
    .venv/bin/python benchmarks/real_multilingual.py protocols --real-root ../shared/real
        [--emobox ../shared/emobox/data] [--corpora ased] [--k 4] [--seeds 0]
    .venv/bin/python benchmarks/real_multilingual.py table --out exp/real_multilingual   (print only)
    .venv/bin/python benchmarks/real_multilingual.py ensemble --variants select_reported --out DIR  (print only)

``lolo``: for each language L of en (RAVDESS, TESS), it (EMOVO), zh (CASIA), ur (URDU), am (ASED) and each
seed, ``./run.sh --data-root REAL --label-config conf/labels_real.yaml --hparams
hparams/whisper_base_frozen_real.yaml --label-overrides "held_out_languages=[L]" --seed S``
(stages 0-4, the system for real corpora: frozen multilingual Whisper base, silence trimmed, an MLP
head, half of the training utterances normalised as lone files, the checkpoint chosen on dev files
scored alone): train on
every corpus of the other four languages (TESS training-only, every other corpus split by
speaker, dev from held-in speakers), then score each corpus of L zero-shot through the exported
model. Every run points at one ``--feature_folder``: the upstream's hidden states of each corpus
are computed once and reused by every fold, seed and variant (``feature_cache.py``), stage 4
included.
``--jobs N`` (lolo, emobox, protocols): N runs at a time, each with cores / N intra-op threads, after
the first run alone with every core (it extracts the features); a run's figures depend on its thread
count, not on its neighbours. A rerun of a command continues it: each run's benchmark.json is written
last, and a finished run of the same command is read back, not run again.

Per held-out corpus: UAR with a 95 % interval resampling speakers (1,000 resamples), accuracy,
macro-F1, binary arousal UAR, the majority-class accuracy and chance; lone-file mode (each file
alone, as ``ser-predict FILE``) first, stage 4's speaker mode (each file normalised with all of
its speaker's files: transductive) beside it. A language's UAR is the mean over its corpora; the
LOLO mean is the mean over the languages. Dev UAR (held-in speakers: the only figure choices are
made on) is printed beside. Seeds: mean ± sample std.

``--variants`` (each a full LOLO; the names below):
full (the system for real corpora as it is: neutral smoothing off, silence trimmed, MLP head, half
the training utterances normalised as lone files), hard
(one-hot targets), smoothing (neutral smoothing on), no_adversarial (domain weight 0), adv_language (language as the adversarial
domain), adv_0.1 / adv_0.001 (other domain weights), balanced (class-balanced sampling),
no_speaker_norm, lone_dev (the checkpoint chosen on dev files scored alone, not normalised by their
speakers), select_reported (the checkpoint chosen on what the tables report: the mean over held-in
corpora of each corpus's class-restricted UAR of its dev files scored alone; the default of
hparams/whisper_base_frozen_real.yaml), select_macro_f1 (the other rule: dev macro-F1 over every class, dev
normalised by its speakers), patience_5 (training stopped after 5 epochs without a better checkpoint
rule on dev, ``patience: 5``), fast (that, and batches of utterances of similar length,
``sorting: buckets``),
lone_train_0.5 / lone_train_1 (that share of training utterances normalised with the
training statistics, as a lone file is, instead of their speaker's), linear_head (a linear head in place of the 256-unit hidden layer), stats_pool (statistics pooling, ``attention_channels: 0``, in place of the attentive pooling), mlp_head (a 256-unit hidden
layer instead of the linear head), mlp_lone_0.5 (both), corpus_norm (training features standardised per corpus, not per
speaker; stage 4's grouped mode then groups a test corpus whole), equal_layers (the layers' plain mean instead of learned weights), layer_0 … layer_6 (that hidden state alone, ``only_layer``, from the same all-layer cache), one_corpus (RAVDESS the only training corpus: not run for en), egemaps (the
eGeMAPS + linear-head baseline, ``hparams/egemaps.yaml``), augmented (Osman et al.'s waveform
suite through the cached upstream: one augmented copy of each training utterance, cached and trained on
beside it, ``augment_copies: 1``; every other variant trains on the original audio only),
top_layer / top_layer_lr1e-4 (tiny.en's top transformer layer fine-tuned, learning rate 5e-5 / 1e-4,
on the cached states below it; stage 4 then extracts the held-out corpora through the fine-tuned
upstream, so these runs do not reuse the held-out features),
whisper_egemaps (the recipe's Whisper features fused with the eGeMAPS functionals,
``hparams/whisper_egemaps.yaml``), real_egemaps (the system for real corpora with them fused: the same
file with silence trimmed, the MLP head and half the training utterances lone). ``--label-overrides``
adds label overrides to every run (e.g. ``neutral_smoothing=true``: a variant against the recipe
with smoothing on); ``--system`` names the hparams every run starts from (default
``hparams/whisper_base_frozen_real.yaml``; ``hparams/whisper_tiny_frozen_real.yaml`` is the same
system over Whisper tiny.en with the checkpoint chosen on dev macro-F1 in speaker mode,
``hparams/whisper_tiny_frozen_trimmed.yaml`` the
linear head trained on speaker-normalised features only, ``hparams/whisper_tiny_frozen.yaml`` hears
the audio whole), and its runs' folders and table rows carry its name.

``emobox``: EmoBox's folds (``splits=emobox:<dir> fold=k``), each corpus alone in its own label set
(policy native, as EmoBox scores it), the same system, UA / WA / macro-F1 averaged over the folds
and the UA of the folds' test files pooled, with its interval by speaker, printed beside EmoBox's
Table 4 (``../shared/emobox/README.md``); dev is drawn by utterance from every train-list speaker
(``EMOBOX_DEV_UNIT``; ``dev_unit`` in ``labels/targets.apply_split_source``); ``--variants`` takes those made of training
overrides (e.g. top_layer), each in its own folder, ``--label-overrides`` label keys (``dev_unit=speaker``).
``--inner``: the same inside each fold's train list (``inner_lists``: some of its speakers the inner
test), so that a choice for these folds is made without their test speakers.

``ensemble``: a lolo variant's finished runs, each fold's seeds as one ensemble (their lone class
probabilities averaged) against the seeds one at a time, on dev and on the held-out corpora.

``overlap`` (``--emobox``): for each corpus and EmoBox fold, how many test speakers also speak in
its train list, over the files our copy holds (nothing is trained).

``protocols``: one corpus alone (as ``emobox``) under (a) EmoBox's folds where ``--emobox`` has
them, (b) ``utterance_folds:K`` (K folds of utterances drawn at random, as a split that ignores
speakers: test speakers also speak in training) and (c) ``speaker_folds:K`` (K folds of disjoint
speakers: speaker-independent); per protocol the UA mean over folds, the pooled folds' UA with a
95 % interval by speaker, how many test speakers also speak in training, and the speaker leak
(b) - (c) in UA points. Every protocol draws dev as ``emobox`` does, so only the test split differs.

The real corpora and EmoBox's lists are not part of the project; without them the script stops
with a message.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_corpora import fmt, interval_text, read_rows, restricted, scores, uar  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "Multilingual16"
LANGUAGES = {"en": ["ravdess", "tess"], "it": ["emovo"], "zh": ["casia"], "ur": ["urdu"], "am": ["ased"]}
FOLDERS = {"ravdess": "RAVDESS", "tess": "TESS", "emovo": "EMOVO", "casia": "CASIA", "urdu": "URDU",
           "ased": "ASED"}
# EmoBox's folds and the protocols' folds: dev drawn by utterance from the train list (as EmoBox's
# own recipe draws it), chosen inside EmoBox's folds' train lists (emobox --inner, first 3 folds, seed 0: EMOVO 59.18 against
# 53.40 by speaker, RAVDESS 66.41 against 68.10, CASIA equal; docs/experiments.md)
EMOBOX_DEV_UNIT = "utterance"
# the system for real corpora (``--system`` names another); a variant changes it (training
# overrides) or names its own hparams
SYSTEM = "hparams/whisper_base_frozen_real.yaml"
# variant → (label overrides, training overrides, hparams or None for the system)
VARIANTS = {
    "full": ("", [], None),
    "hard": ("", ["--hard_targets", "True"], None),
    "smoothing": ("neutral_smoothing=true", [], None),
    "no_adversarial": ("", ["--domain_weight", "0.0"], None),
    "adv_language": ("", ["--domain_key", "language"], None),
    "adv_0.1": ("", ["--domain_weight", "0.1"], None),
    "adv_0.001": ("", ["--domain_weight", "0.001"], None),
    "balanced": ("", ["--train_sampler", "!name:speechbrain_ser.samplers.class_balanced"], None),
    "no_speaker_norm": ("", ["--speaker_norm", "False"], None),
    "lone_dev": ("", ["--speaker_norm_dev", "lone"], None),
    "select_reported": ("", ["--speaker_norm_dev", "lone", "--select_key", "corpus_uar"], None),
    "select_macro_f1": ("", ["--speaker_norm_dev", "speaker", "--select_key", "macro_f1"], None),
    "patience_5": ("", ["--patience", "5"], None),
    "fast": ("", ["--patience", "5", "--sorting", "buckets"], None),
    # the head re-checked for Whisper base's 512-dimensional features, in fast's training
    "fast_head_512": ("", ["--patience", "5", "--sorting", "buckets", "--head_hidden", "512"], None),
    "fast_linear_head": ("", ["--patience", "5", "--sorting", "buckets", "--head_hidden", "0"], None),
    # the pooling re-checked: the frames' mean and std (statistics pooling) for the attentive pooling
    "fast_stats_pool": ("", ["--patience", "5", "--sorting", "buckets", "--attention_channels", "0"], None),
    "stats_pool": ("", ["--attention_channels", "0"], None),
    "linear_head": ("", ["--head_hidden", "0"], None),
    "lone_train_0.5": ("", ["--speaker_norm_lone_train", "0.5"], None),
    "lone_train_1": ("", ["--speaker_norm_lone_train", "1.0"], None),
    "equal_layers": ("", ["--learn_layer_weights", "False"], None),
    **{f"layer_{k}": ("", ["--only_layer", str(k)], None) for k in range(7)},
    "mlp_head": ("", ["--head_hidden", "256"], None),
    "corpus_norm": ("", ["--speaker_norm_group", "corpus"], None),
    # each file normalised with its own frames' statistics (its path is its group): stage 4's speaker
    # mode is then a file alone, and dev chooses the checkpoint the same way
    "utterance_norm": ("", ["--speaker_norm_group", "wav", "--speaker_norm_dev", "speaker",
                            "--speaker_norm_lone_train", "0.0"], None),
    "mlp_lone_0.5": ("", ["--head_hidden", "256", "--speaker_norm_lone_train", "0.5"], None),
    # each file padded to 30 s before the encoder, as Whisper was trained; its own frames' states kept
    "pad_30s": ("", ["--pad_to_30s", "True"], None),
    "top_layer": ("", ["--trainable_layers", "1"], None),
    "top_layer_lr1e-4": ("", ["--trainable_layers", "1", "--lr_upstream", "0.0001"], None),
    "augmented": ("", ["--augment_copies", "1"], None),
    "one_corpus": ("corpora=[ravdess,{held}]", [], None),
    "egemaps": ("", [], "hparams/egemaps.yaml"),
    "whisper_egemaps": ("", [], "hparams/whisper_egemaps.yaml"),
    # the system for real corpora (whisper_tiny_frozen_real.yaml) with the eGeMAPS functionals fused
    "real_egemaps": ("", ["--trim_db", "40", "--head_hidden", "256", "--speaker_norm_lone_train", "0.5"],
                     "hparams/whisper_egemaps.yaml"),
}
# EmoBox Table 4, Whisper-large-v3 (UA / WA / macro-F1, %), from ../shared/emobox/README.md
EMOBOX_WHISPER_LARGE_V3 = {"ravdess": (75.32, 75.87, 75.19), "urdu": (82.52, 82.52, 82.41),
                           "emovo": (57.82, 57.82, 56.06), "casia": (59.58, 59.58, 56.27),
                           "tess": (99.96, None, None), "ased": (96.75, 96.73, 96.74)}
# WavLM-base (95 M parameters: the size class of Whisper base), same table
EMOBOX_WAVLM_BASE = {"ravdess": (61.56, 62.10, 61.18), "urdu": (82.82, 82.82, 82.85), "emovo": (42.39, 42.39, 37.33),
                     "casia": (47.25, 47.25, 41.78), "tess": (99.10, None, None), "ased": (94.27, 94.31, 94.29)}


def run(cmd: list, log: Path, threads: int | None = None) -> float:
    """Run ``cmd``, its output into ``log``; ``threads``: the intra-op threads of its torch (and
    BLAS) calls. Returns the wall seconds; stops with the log's tail when it fails."""
    t0 = time.perf_counter()
    env = dict(os.environ, **{k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}) if threads else None
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(" ".join(cmd) + "\n" + r.stdout + r.stderr)
    if r.returncode:
        sys.exit(f"failed (log: {log}):\n{r.stderr[-3000:]}")
    return time.perf_counter() - t0


def dev_uar(results: Path) -> float:
    """Dev files scored alone, pooled over the held-in corpora, argmax over every class."""
    rows = read_rows(results / "predictions_dev.csv")
    classes = [k[2:] for k in rows[0] if k.startswith("p_")]
    refs, preds = restricted(rows, classes)
    return uar(refs, preds)


def dev_corpus_uar(results: Path) -> float:
    """What the tables report, on dev: the mean over held-in corpora of each corpus's UAR of its dev
    files scored alone, each restricted to its corpus's classes (``metrics.mean_corpus_uar``)."""
    return corpus_uar(read_rows(results / "predictions_dev.csv"), json.loads((results / "inventory.json").read_text()))


def corpus_uar(rows: list, inventory: dict) -> float:
    """The mean over the rows' corpora of each corpus's UAR, restricted to its classes (``inventory``)."""
    from speechbrain_ser import metrics

    rows = [r for r in rows if r["ref"]]
    refs, preds, corpora = [], [], []
    for corpus in dict.fromkeys(r["corpus"] for r in rows):
        mine = [r for r in rows if r["corpus"] == corpus]
        r_, p_ = restricted(mine, inventory[corpus])
        refs += r_.tolist(); preds += p_.tolist(); corpora += [corpus] * len(r_)
    return metrics.mean_corpus_uar(refs, preds, corpora)


def system_named(a, name: str) -> str:
    """A run folder's name: ``name`` prefixed by the system's (runs of two systems never share a folder)."""
    return f"{Path(a.system).stem}+{name}"


def with_label_overrides(a, name: str) -> str:
    """``name`` followed by ``--label-overrides`` (runs of other labels never share a folder)."""
    return f"{name}+{'+'.join(a.label_overrides.replace('=', '-').split())}" if a.label_overrides else name


def lolo_run(a, variant: str, lang: str, seed: int, threads: int | None = None) -> dict | None:
    labels, train, hparams = VARIANTS[variant]
    held = LANGUAGES[lang]
    if variant == "one_corpus" and "ravdess" in held:
        return None
    # '=' cannot be in a path SpeechBrain's overrides carry (tools/recipe.sh)
    name = system_named(a, with_label_overrides(a, variant))
    exp = Path(a.out) / name / f"{lang}_seed{seed}"
    overrides = f"held_out_languages=[{lang}] {a.label_overrides} {labels.format(held=','.join(held))}".strip()
    cmd = [str(RECIPE / "run.sh"), "--data-root", str(Path(a.real_root).resolve()), "--exp-dir", str(exp),
           "--label-config", "conf/labels_real.yaml", "--label-overrides", overrides, "--seed", str(seed),
           "--stop-stage", "4", "--hparams", hparams or a.system,
           "--", "--feature_folder", str(Path(a.out) / "features"), *train, *a.extra]
    done = exp / "benchmark.json"
    if (old := finished(done, cmd)) is not None:
        return old
    wall = run(cmd, exp / "benchmark_run.log", threads)
    results = exp / "train" / "results"
    out = {"variant": name, "system": a.system, "lang": lang, "seed": seed, "wall": wall, "command": cmd,
           "threads": threads or torch_threads(),
           "dev_uar": dev_uar(results), "dev_corpus_uar": dev_corpus_uar(results), "corpora": {}}
    for corpus in held:
        out["corpora"][corpus] = {mode: scores(results, f"zeroshot_{corpus}", corpus, mode)
                                  for mode in ("lone", "speaker")
                                  if (results / ("speaker" if mode == "speaker" else "") /
                                      f"predictions_zeroshot_{corpus}.csv").exists()}
    done.write_text(json.dumps(out, default=list))
    return out


def finished(done: Path, cmd: list) -> dict | None:
    """The record ``done`` (benchmark.json, written last) of a finished run of ``cmd``: a rerun continues
    the grid; None when the run has not finished. Stops on a folder another command wrote."""
    if not done.exists():
        return None
    old = json.loads(done.read_text())
    if old.get("command") == cmd:
        return old
    sys.exit(f"{done}: a run of another command ({old.get('command')}); remove the folder or use another --out")


def torch_threads() -> int:
    """The intra-op threads a run's torch takes when nothing sets them: OMP_NUM_THREADS, else the cores."""
    return int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)


def in_turn(a, run_one, grid: list) -> list:
    """``run_one(*g, threads=...)`` for each g of ``grid``; the records in the grid's order. ``--jobs N``
    > 1: the first run alone with every core (it extracts the features of the corpora: a run reads what
    it finds cached), then N runs at a time, each with cores / N intra-op threads. On 2 cores, two
    one-thread runs train ~1.3x as many utterances a second as one run with two threads. A run's
    figures depend on its thread count (floating-point sums in another order), not on what runs
    beside it; each run records it."""
    if a.jobs <= 1 or len(grid) < 2:
        return [run_one(*g, threads=None) for g in grid]
    cores = os.cpu_count() or 1
    first = run_one(*grid[0], threads=cores)
    threads = max(1, cores // a.jobs)
    with ThreadPoolExecutor(a.jobs) as pool:
        return [first] + list(pool.map(lambda g: run_one(*g, threads=threads), grid[1:]))


def lolo_runs(a, variant: str) -> list:
    """Every (seed, language) run of ``variant``, in that order (``in_turn``: ``--jobs``)."""
    grid = [(lang, s) for s in a.seeds for lang in a.languages]
    return [r for r in in_turn(a, lambda lang, s, threads: lolo_run(a, variant, lang, s, threads), grid) if r]


def lolo_table(runs: list, variant: str) -> list:
    """Markdown lines: per held-out language and corpus, mean ± std over seeds, lone then speaker mode;
    the intervals (by speaker) are those of the first seed's run."""
    lines = [f"### {variant}", "",
             "| held out | corpus | n / speakers | UAR lone [95% CI by speaker, first seed] | acc | macro-F1 | arousal UAR "
             "| majority acc / chance | UAR speaker mode (transductive) [95% CI, first seed] | dev UAR: corpus mean / pooled | seeds |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    per_lang: dict = {}
    for lang, corpora in LANGUAGES.items():
        rs = [r for r in runs if r["lang"] == lang]
        if not rs:
            continue
        for corpus in corpora:
            lone = [r["corpora"][corpus]["lone"] for r in rs]
            spk = [r["corpora"][corpus].get("speaker") for r in rs if r["corpora"][corpus].get("speaker")]
            ci = lone[0]["uar_ci"]
            s_text = (f"{fmt([s['uar'] for s in spk])} {interval_text(*spk[0]['uar_ci'], spk[0]['speakers'])}"
                      if spk else "n/a (no speaker normalisation)")
            lines.append(
                f"| {lang} | {corpus} | {lone[0]['n']} / {lone[0]['speakers']} | {fmt([x['uar'] for x in lone])} "
                f"{interval_text(*ci, lone[0]['speakers'])} | {fmt([x['accuracy'] for x in lone])} | {fmt([x['macro_f1'] for x in lone])} "
                f"| {fmt([x['arousal_uar'] for x in lone])} | {lone[0]['majority_accuracy']:.3f} / {lone[0]['chance_uar']:.3f} "
                f"| {s_text} | {fmt([r['dev_corpus_uar'] for r in rs])} / {fmt([r['dev_uar'] for r in rs])} "
                f"| {', '.join(str(r['seed']) for r in rs)} |")
            per_lang.setdefault(lang, {}).setdefault("lone", []).append([x["uar"] for x in lone])
            if spk:
                per_lang[lang].setdefault("speaker", []).append([s["uar"] for s in spk])
    if per_lang:
        # per seed: the language's UAR = mean over its corpora; LOLO mean = mean over languages
        for mode in ("lone", "speaker"):
            langs = [np.mean(v[mode], axis=0) for v in per_lang.values() if mode in v]
            if len(langs) != len(per_lang):
                continue
            same = len({len(x) for x in langs}) == 1  # the same seeds for every language: mean ± std over seeds
            lolo = np.mean(langs, axis=0) if same else [np.mean([x.mean() for x in langs])]
            # the figure choices are made on: dev's corpus mean, per seed averaged over the languages' runs
            dev = ""
            if mode == "lone":
                by_seed = {}
                for r in runs:
                    by_seed.setdefault(r["seed"], []).append(r["dev_corpus_uar"])
                dev = fmt([np.mean(v) for v in by_seed.values()])
            lines.append(f"| **LOLO mean ({mode}{', transductive' if mode == 'speaker' else ''})** | "
                         f"{' '.join(per_lang)} | | **{fmt(lolo)}**{'' if same else ' (mean of each language seed mean)'} "
                         f"| | | | | | {dev} | |")
    secs = [r["wall"] for r in runs]
    threads = sorted({r.get("threads") for r in runs if r.get("threads")})
    lines += ["", f"{len(runs)} runs, wall {sum(secs) / 60:.1f} min in all ({fmt(secs)} s a run; the first run of "
              "each corpus extracts its features"
              f"{'; runs side by side overlap: the elapsed time is the total line' if threads and min(threads) < torch_threads() else ''}"
              f"{f'; intra-op threads a run: {threads}' if threads else ''})", ""]
    return lines


def variants_table(runs: list) -> list:
    """Markdown lines: the variants side by side, per held-out language over the seeds every variant
    has for it: the dev figure choices are made on (``dev_corpus_uar``) and the language's lone UAR
    (the mean over its corpora; held out: reported, never chosen on); the means over languages last."""
    names = list(dict.fromkeys(r["variant"] for r in runs))
    lines = ["| held out | seeds | " + " | ".join(f"dev: {n}" for n in names) + " | "
             + " | ".join(f"held out, lone: {n}" for n in names) + " |", "|---|---|" + "---|" * 2 * len(names)]
    means: dict = {("dev", n): [] for n in names} | {("lone", n): [] for n in names}
    for lang, corpora in LANGUAGES.items():
        by = {n: {r["seed"]: r for r in runs if r["variant"] == n and r["lang"] == lang} for n in names}
        seeds = sorted(set.intersection(*(set(b) for b in by.values())))
        if not seeds:
            continue
        dev = {n: [by[n][s]["dev_corpus_uar"] for s in seeds] for n in names}
        lone = {n: [np.mean([by[n][s]["corpora"][c]["lone"]["uar"] for c in corpora]) for s in seeds] for n in names}
        for n in names:
            means["dev", n].append(np.mean(dev[n]))
            means["lone", n].append(np.mean(lone[n]))
        lines.append(f"| {lang} | {', '.join(map(str, seeds))} | " + " | ".join(fmt(dev[n]) for n in names) + " | "
                     + " | ".join(fmt(lone[n]) for n in names) + " |")
    langs = len(means["dev", names[0]])
    lines.append(f"| **mean of {langs} languages** | | " + " | ".join(f"**{np.mean(means['dev', n]):.3f}**" for n in names)
                 + " | " + " | ".join(f"**{np.mean(means['lone', n]):.3f}**" for n in names) + " |")
    return lines


def emobox_run(a, corpus: str, fold: int, seed: int, variant: str = "full", protocol: str = "emobox",
               threads: int | None = None) -> dict:
    """One in-domain fold of ``corpus`` alone in its own label set: ``protocol`` emobox (EmoBox's fold
    lists), or speaker_folds:K / utterance_folds:K (``labels/targets.apply_split_source``)."""
    from speechbrain_ser import corpora

    labels, train, hparams = VARIANTS[variant]
    if labels or hparams:
        sys.exit(f"--variants {variant}: the emobox folds take training overrides only")
    classes = sorted(corpora.get(corpus).LABELS)
    kind = protocol if protocol.startswith("emobox") else protocol.replace(":", "")
    name = system_named(a, with_label_overrides(a, kind if variant == "full" else f"{kind}+{variant}"))
    exp = Path(a.out) / name / f"{corpus}_fold{fold}_seed{seed}"
    lists = {"emobox": a.emobox, "emobox_inner": Path(a.out) / INNER_LISTS}  # the latter: written by inner_lists
    splits = f"emobox:{Path(lists[protocol]).resolve()}" if protocol in lists else protocol
    # every protocol draws dev by the EmoBox folds' rule (EMOBOX_DEV_UNIT): only the test split differs
    cmd = [str(RECIPE / "run.sh"), "--data-root", str(Path(a.real_root).resolve()), "--exp-dir", str(exp),
           "--label-config", "conf/labels_real.yaml",
           "--label-overrides", f"corpora=[{corpus}] held_out=[] held_out_languages=[] training_only=[] "
                                f"policy=native splits={splits} fold={fold} dev_unit={EMOBOX_DEV_UNIT} {a.label_overrides}".strip(),
           "--seed", str(seed), "--stop-stage", "4", "--hparams", a.system,
           "--", "--feature_folder", str(Path(a.out) / "features"), "--classes", f"[{', '.join(classes)}]",
           "--n_classes", str(len(classes)), *train, *a.extra]
    done = exp / "benchmark.json"
    if (old := finished(done, cmd)) is not None:
        return old
    wall = run(cmd, exp / "benchmark_run.log", threads)
    results = exp / "train" / "results"
    out = {"corpus": corpus, "fold": fold, "seed": seed, "system": a.system, "name": name, "wall": wall,
           "command": cmd, "threads": threads or torch_threads(), "protocol": protocol,
           "lone": scores(results, "test", corpus, "lone"), "items": test_items(results, corpus),
           "shared_speakers": shared_speakers(exp / "data" / "labels")}
    if (results / "speaker" / "predictions_test.csv").exists():
        out["speaker"] = scores(results, "test", corpus, "speaker")
    done.write_text(json.dumps(out, default=list))
    return out


def shared_speakers(labels: Path) -> str:
    """'n of m': how many of the m test speakers also speak in the training set."""
    from speechbrain_ser.stage import read_entries

    spk = {n: {e.get("speaker") for e in read_entries(labels / f"{n}.json").values()} for n in ("train", "test")}
    return f"{len(spk['test'] & spk['train'])} of {len(spk['test'])}"


def test_items(results: Path, corpus: str) -> list:
    """[reference, lone prediction within the corpus's classes, speaker] of each test file: the folds'
    test sets pooled give one interval by speaker over the whole corpus."""
    from speechbrain_ser.stage import read_entries

    inventory = json.loads((results / "inventory.json").read_text())[corpus]
    rows = read_rows(results / "predictions_test.csv")
    entries = read_entries(results.parent.parent / "data" / "labels" / "test.json")
    refs, preds = restricted(rows, inventory)
    return [[r, p, entries[row["id"]].get("speaker")] for r, p, row in zip(refs, preds, [x for x in rows if x["ref"]])]


def protocols_table(runs: list) -> list:
    """Per corpus: UA (lone, %) under each protocol, mean over its folds, with the pooled folds' 95 %
    interval by speaker; the speaker leak = utterance folds - speaker folds."""
    lines = ["| corpus | protocol | folds | test speakers also in training | UA lone, mean of folds (± std of seeds) | UA of the pooled "
             "folds [95% CI by speaker] | WA | macro-F1 | wall |", "|---|---|---|---|---|---|---|---|---|"]
    for corpus in dict.fromkeys(r["corpus"] for r in runs):
        ua = {}
        for protocol in dict.fromkeys(r["protocol"] for r in runs if r["corpus"] == corpus):
            rs = [r for r in runs if r["corpus"] == corpus and r["protocol"] == protocol]
            ua[protocol] = np.mean([r["lone"]["uar"] for r in rs]) * 100
            folds = list(dict.fromkeys(r["fold"] for r in rs))
            shared = [next(str(r.get("shared_speakers", "")) for r in rs if r["fold"] == k) for k in folds]  # per fold
            lines.append(f"| {corpus} | {protocol} | {len(folds)} | {', '.join(shared)} | {seeds_ua(rs)} "
                         f"| {pooled_ua(rs)} "
                         f"| {np.mean([r['lone']['accuracy'] for r in rs]) * 100:.2f} "
                         f"| {np.mean([r['lone']['macro_f1'] for r in rs]) * 100:.2f} | {sum(r['wall'] for r in rs) / 60:.1f} min |")
        u = next((p for p in ua if p.startswith("utterance_folds")), None)
        sp = next((p for p in ua if p.startswith("speaker_folds")), None)
        if u and sp:
            lines.append(f"| {corpus} | **speaker leak** (utterance − speaker folds) | | | **{ua[u] - ua[sp]:+.2f}** UA points | | | | |")
    return lines


def averaged(paths: list) -> list:
    """The rows of several predictions files of the same utterances, each class column averaged."""
    sets = [read_rows(p) for p in paths]
    for p, rows in zip(paths[1:], sets[1:]):
        if [r["id"] for r in rows] != [r["id"] for r in sets[0]]:
            sys.exit(f"{p}: not the utterances of {paths[0]}, in its order: no ensemble of the two")
    return [{**rows[0], **{k: str(np.mean([float(r[k]) for r in rows])) for k in rows[0] if k.startswith("p_")}}
            for rows in zip(*sets)]


def ensemble_table(a, variant: str) -> list:
    """One fold's models of the seeds as an ensemble (their lone class probabilities averaged) against
    the same models one at a time (mean over the seeds): dev (the corpus mean the system is chosen on)
    and each held-out corpus, lone, restricted to its classes; the LOLO mean over the languages."""
    lines = ["| held out | dev, mean of the seeds | dev, ensemble | corpus | held out, mean of the seeds "
             "| held out, ensemble |", "|---|---|---|---|---|---|"]
    name = system_named(a, with_label_overrides(a, variant))
    lolo = {"seeds": [], "ensemble": []}
    devs = {"seeds": [], "ensemble": []}
    for lang in a.languages:
        results = [Path(a.out) / name / f"{lang}_seed{s}" / "train" / "results" for s in a.seeds]
        inventory = json.loads((results[0] / "inventory.json").read_text())
        dev = [corpus_uar(read_rows(r / "predictions_dev.csv"), inventory) for r in results]
        dev_ens = corpus_uar(averaged([r / "predictions_dev.csv" for r in results]), inventory)
        devs["seeds"].append(np.mean(dev))
        devs["ensemble"].append(dev_ens)
        held = {"seeds": [], "ensemble": []}
        for corpus in LANGUAGES[lang]:
            files = [r / f"predictions_zeroshot_{corpus}.csv" for r in results]
            one = np.mean([uar(*restricted(read_rows(f), inventory[corpus])) for f in files])
            ens = uar(*restricted(averaged(files), inventory[corpus]))
            held["seeds"].append(one)
            held["ensemble"].append(ens)
            lines.append(f"| {lang} | {np.mean(dev):.3f} | {dev_ens:.3f} | {corpus} | {one:.3f} | {ens:.3f} |")
        for k in lolo:
            lolo[k].append(np.mean(held[k]))
    lines.append(f"| **mean** | {np.mean(devs['seeds']):.3f} | {np.mean(devs['ensemble']):.3f} | LOLO "
                 f"| **{np.mean(lolo['seeds']):.3f}** | **{np.mean(lolo['ensemble']):.3f}** |")
    return lines


def pooled_ua(runs: list) -> str:
    """UA (%) of the runs' test files pooled (``test_items``), with its 95 % interval by speaker."""
    from speechbrain_ser import metrics

    refs, preds, spk = (np.array([x[i] for r in runs for x in r["items"]]) for i in range(3))
    lo, hi, _ = metrics.bootstrap_interval(refs, preds, sorted(set(refs) | set(preds)), list(spk))
    return f"{uar(refs, preds) * 100:.2f} {interval_text(lo * 100, hi * 100, len(set(spk)), digits=1)}"


INNER_LISTS = "inner_lists"  # the folder under --out of the lists inside EmoBox's folds


def inner_lists(a, corpus: str) -> Path:
    """EmoBox-format fold lists inside EmoBox's folds, for choices made without their test speakers:
    fold k's train list split again by speaker, as many of its speakers as fold k tests (at least one,
    drawn by a hash of the fold and the speaker) the inner test, the rest the inner train list; fold
    k's test files are in neither. Files our copy does not hold are left out (their speaker is not
    known). Written under OUT/INNER_LISTS/ (once a command, before its runs); returns that folder."""
    import hashlib

    from speechbrain_ser.labels.emobox import recording_key

    out = Path(a.out) / INNER_LISTS
    speaker = speakers_by_recording(a, corpus)
    for d in sorted((Path(a.emobox) / corpus).glob("fold_*")):
        k = d.name.split("_")[1]
        lines = {role: [x for x in (d / f"{corpus}_{role}_fold_{k}.jsonl").read_text().splitlines() if x.strip()]
                 for role in ("train", "test")}
        spk = {role: [speaker.get(recording_key(corpus, json.loads(x)["wav"])) for x in xs] for role, xs in lines.items()}
        train_spk = sorted({x for x in spk["train"] if x is not None},
                           key=lambda x: hashlib.sha1(f"{k}/{x}".encode()).hexdigest())
        n = max(1, min(len({x for x in spk["test"] if x is not None}), len(train_spk) - 2))
        inner = set(train_spk[:n])
        fold = out / corpus / d.name
        fold.mkdir(parents=True, exist_ok=True)
        for role, keep in (("train", lambda x: x is not None and x not in inner), ("test", lambda x: x in inner)):
            text = "".join(x + "\n" for x, who in zip(lines["train"], spk["train"]) if keep(who))
            (fold / f"{corpus}_{role}_fold_{k}.jsonl").write_text(text)
    return out


def speakers_by_recording(a, corpus: str) -> dict:
    """{EmoBox recording key: speaker} of the files our copy of ``corpus`` holds (its reader)."""
    from speechbrain_ser import corpora
    from speechbrain_ser.corpora.base import Row
    from speechbrain_ser.labels.emobox import recording_key

    return {recording_key(corpus, str(r.path)): r.speaker
            for r in corpora.get(corpus).prepare(Path(a.real_root) / FOLDERS[corpus]) if isinstance(r, Row)}


def emobox_speaker_overlap(a) -> list:
    """Markdown lines: for each corpus and EmoBox fold, how many of its test speakers also speak in
    its train list (0 = speaker-independent), over the files our copy holds (read by the corpus's reader)."""
    from speechbrain_ser.labels.emobox import read_fold

    lines = ["| corpus | fold | test files found / listed | train speakers | test speakers | test speakers in train |",
             "|---|---|---|---|---|---|"]
    for corpus in a.corpora:
        speaker = speakers_by_recording(a, corpus)
        for d in sorted((Path(a.emobox) / corpus).glob("fold_*"), key=lambda d: int(d.name.split("_")[1])):
            roles = read_fold(a.emobox, corpus, int(d.name.split("_")[1]))
            spk = {role: {speaker[k] for k, r in roles.items() if r == role and k in speaker} for role in ("train", "test")}
            found = sum(1 for k, r in roles.items() if r == "test" and k in speaker)
            listed = sum(1 for r in roles.values() if r == "test")
            lines.append(f"| {corpus} | {d.name} | {found} / {listed} | {len(spk['train'])} | {len(spk['test'])} "
                         f"| {len(spk['test'] & spk['train'])} |")
    return lines


def emobox_table(runs: list) -> list:
    lines = ["| corpus (classes) | folds | UA lone | UA of the pooled folds, lone [95% CI by speaker] | WA lone "
             "| macro-F1 lone | UA speaker mode (transductive) | EmoBox WavLM-base UA / WA / F1 "
             "| EmoBox Whisper-large-v3 UA / WA / F1 | wall |", "|---|---|---|---|---|---|---|---|---|---|"]
    for corpus in EMOBOX_WHISPER_LARGE_V3:
        rs = [r for r in runs if r["corpus"] == corpus]
        if not rs:
            continue
        pub = " | ".join(" / ".join("—" if x is None else f"{x:.2f}" for x in table[corpus])
                         for table in (EMOBOX_WAVLM_BASE, EMOBOX_WHISPER_LARGE_V3))
        spk = [r["speaker"]["uar"] * 100 for r in rs if "speaker" in r]
        lines.append(f"| {corpus} ({rs[0]['lone']['classes']}) | {len({r['fold'] for r in rs})} "
                     f"| {seeds_ua(rs)} "
                     f"| {pooled_ua(rs) if all('items' in r for r in rs) else '—'} "
                     f"| {np.mean([r['lone']['accuracy'] for r in rs]) * 100:.2f} "
                     f"| {np.mean([r['lone']['macro_f1'] for r in rs]) * 100:.2f} "
                     f"| {np.mean(spk):.2f} | {pub} | {sum(r['wall'] for r in rs) / 60:.1f} min |"
                     if spk else f"| {corpus} | {len(rs)} | {np.mean([r['lone']['uar'] for r in rs]) * 100:.2f} | | | | | {pub} | |")
    return lines


def emobox_counterpart(run: dict) -> str:
    """The run folder name of a protocol run's EmoBox folds: the same system and label overrides
    (``emobox_run``'s naming), its protocol's kind replaced by emobox."""
    return run["name"].replace(f"+{run['protocol'].replace(':', '')}", "+emobox", 1)


def seeds_ua(runs: list) -> str:
    """UA lone (%), the mean of the runs (every fold of every seed); with several seeds, ± the standard
    deviation over the seeds of each seed's mean of folds."""
    mean = f"{np.mean([r['lone']['uar'] for r in runs]) * 100:.2f}"
    seeds = sorted({r.get("seed", 0) for r in runs})
    if len(seeds) < 2:
        return mean
    per_seed = [np.mean([r["lone"]["uar"] for r in runs if r.get("seed", 0) == s]) * 100 for s in seeds]
    return f"{mean} ± {np.std(per_seed, ddof=1):.2f} ({len(seeds)} seeds)"


def load_runs(out: Path, kind: str) -> list:
    pattern = {"emobox": "*emobox*/*/benchmark.json", "protocols": "*_folds*/*/benchmark.json"}.get(
        kind, "*/*_seed*/benchmark.json")
    runs = []
    for p in sorted(Path(out).glob(pattern)):
        r = json.loads(p.read_text())
        if "variant" in r and "dev_corpus_uar" not in r:  # a run from before the figure was recorded
            r["dev_corpus_uar"] = dev_corpus_uar(p.parent / "train" / "results")
        runs.append(r)
    return [r for r in runs if ("variant" in r) == (kind == "lolo")]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["lolo", "emobox", "protocols", "overlap", "table", "ensemble"])
    ap.add_argument("--real-root", default=str(ROOT.parent / "shared" / "real"))
    ap.add_argument("--emobox", default=None, help="EmoBox's data/ folder of fold lists")
    ap.add_argument("--languages", nargs="+", default=list(LANGUAGES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variants", nargs="+", default=["full"], choices=list(VARIANTS))
    ap.add_argument("--label-overrides", default="", help="label overrides added to every run (after the emobox runs' own, which they can change: dev_unit=speaker)")
    ap.add_argument("--system", default=SYSTEM, help="the recipe's hparams every run starts from (e.g. "
                    "hparams/whisper_tiny_frozen.yaml: the audio whole, not trimmed)")
    ap.add_argument("--corpora", nargs="+", default=None,
                    help="emobox: default ravdess emovo casia urdu tess ased; protocols: default ased")
    ap.add_argument("--k", type=int, default=4, help="protocols: the number of speaker and utterance folds")
    ap.add_argument("--folds", type=int, default=None, help="the first N folds of each corpus (default: all)")
    ap.add_argument("--out", default=str(ROOT / "exp" / "real_multilingual"))
    ap.add_argument("--inner", action="store_true", help="emobox: inside each fold's train list (inner_lists), "
                    "for choices made without the fold's test speakers")
    ap.add_argument("--jobs", type=int, default=1, help="runs at a time (each with cores / jobs threads; "
                    "the first run alone, it extracts the features)")
    a = ap.parse_args(argv)
    a.extra = extra
    a.corpora = a.corpora or (["ased"] if a.what == "protocols" else ["ravdess", "emovo", "casia", "urdu", "tess", "ased"])
    if a.what == "table":
        runs = load_runs(Path(a.out), "lolo")
        for v in dict.fromkeys(r["variant"] for r in runs):
            print("\n".join(lolo_table([r for r in runs if r["variant"] == v], v)))
        if len({r["variant"] for r in runs}) > 1:
            print("\n### The variants side by side\n\n" + "\n".join(variants_table(runs)))
        boxed = load_runs(Path(a.out), "emobox")
        # a record written before runs carried their system's name: the tiny.en system's
        named = lambda r: r.get("name") or f"{Path(r.get('system', 'whisper_tiny_frozen_real')).stem}+emobox"  # noqa: E731
        for name in dict.fromkeys(named(r) for r in boxed):
            print(f"\n### EmoBox's folds, {name}\n")
            print("\n".join(emobox_table([r for r in boxed if named(r) == name])))
        proto = load_runs(Path(a.out), "protocols")
        for name in dict.fromkeys(emobox_counterpart(r) for r in proto):
            print(f"\n### Protocols: EmoBox's folds, utterance folds, speaker folds, {name}\n")
            mine = [r for r in proto if emobox_counterpart(r) == name]
            emo = [r for r in boxed if named(r) == name and r.get("corpus") in {x["corpus"] for x in mine} and "items" in r]
            print("\n".join(protocols_table(emo + mine)))
        return
    if a.what == "ensemble":
        for v in a.variants:
            print(f"\n### The seeds {', '.join(map(str, a.seeds))} as an ensemble, {v}\n")
            print("\n".join(ensemble_table(a, v)))
        return
    need = {c for lang in a.languages for c in LANGUAGES[lang]} if a.what == "lolo" else set(a.corpora)
    for c in sorted(need | (set(FOLDERS) if a.what == "lolo" else set())):
        if not (Path(a.real_root) / FOLDERS[c]).is_dir():
            sys.exit(f"{Path(a.real_root) / FOLDERS[c]}: not found; this benchmark needs the real corpora "
                     "(see its docstring)")
    t0 = time.perf_counter()
    if a.what == "lolo":
        for v in a.variants:
            runs = lolo_runs(a, v)
            print("\n".join(lolo_table(runs, runs[0]["variant"] if runs else v)), flush=True)  # the table command's heading
    elif a.what == "overlap":
        print("\n".join(emobox_speaker_overlap(a)))
    elif a.what == "protocols":
        for corpus in a.corpora:
            grid = []
            if a.emobox and (Path(a.emobox) / corpus).is_dir():
                folds = sorted(int(p.name.split("_")[1]) for p in (Path(a.emobox) / corpus).glob("fold_*"))
                grid += [(k, s, "emobox") for k in folds for s in a.seeds]
            for protocol in (f"utterance_folds:{a.k}", f"speaker_folds:{a.k}"):
                grid += [(k, s, protocol) for k in range(1, a.k + 1) for s in a.seeds]
            runs = in_turn(a, lambda k, s, protocol, threads: emobox_run(a, corpus, k, s, protocol=protocol,
                                                                         threads=threads), grid)
            print("\n".join(protocols_table(runs)), flush=True)
    else:
        if not a.emobox or not Path(a.emobox).is_dir():
            sys.exit(f"--emobox {a.emobox}: EmoBox's data/ folder of fold lists not found")
        protocol = "emobox_inner" if a.inner else "emobox"
        for v in a.variants:
            grid = []
            for corpus in a.corpora:
                folds = sorted(int(p.name.split("_")[1]) for p in (Path(a.emobox) / corpus).glob("fold_*"))
                grid += [(corpus, k, s) for k in (folds[:a.folds] if a.folds else folds) for s in a.seeds]
            if a.inner:
                for corpus in a.corpora:
                    inner_lists(a, corpus)  # written before the runs, which may go side by side
            runs = in_turn(a, lambda c, k, s, threads: emobox_run(a, c, k, s, v, protocol, threads), grid)
            print("\n".join(emobox_table(runs)))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"total {(time.perf_counter() - t0) / 60:.1f} min; peak RSS of a child process {peak:.0f} MB; "
          f"results in {a.out}")


if __name__ == "__main__":
    main()
