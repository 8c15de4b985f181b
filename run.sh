#!/usr/bin/env bash
# speechbrain_ser top-level stage driver: sets up the machine, then runs a recipe.
#   ./run.sh                              Multilingual16, stages 0-5, embedded mini data
#   ./run.sh --recipe MSP-Podcast --stage 3 --stop-stage 4
#   ./run.sh --data-root /corpora -- --number_of_epochs 10   (after --: training overrides)
# Stages: 0 data · 1 manifests · 2 labels · 3 train · 4 evaluate · 5 report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# <options>
recipe=Multilingual16   # recipe folder under recipes/ (Multilingual16 or MSP-Podcast)
stage=0                 # first stage to run
stop_stage=5            # last stage to run
data_root=""            # corpus root holding one folder per corpus; empty = embedded synthetic data made at stage 0
exp_dir=""              # experiment folder; empty = exp/<recipe>/<size>
size=mini               # embedded data size: tiny (tests, seconds) or mini (default run)
seed=0                  # data-generation and training seed
hparams=""              # training hparams yaml, relative to the recipe; empty = the recipe's CPU default
nproc=1                 # stage 3 processes (>1: torchrun DDP; gloo backend on CPU)
# </options>
. "$here/tools/parse_options.sh"
if [ ! -x "$here/recipes/$recipe/run.sh" ]; then
  echo "$0: unknown recipe '$recipe' (have: $(ls "$here/recipes" | tr '\n' ' '))" >&2; exit 1
fi
args=(--stage "$stage" --stop-stage "$stop_stage" --size "$size" --seed "$seed" --nproc "$nproc")
[ -n "$data_root" ] && args+=(--data-root "$data_root")
[ -n "$exp_dir" ] && args+=(--exp-dir "$exp_dir")
[ -n "$hparams" ] && args+=(--hparams "$hparams")
exec "$here/recipes/$recipe/run.sh" "${args[@]}" -- ${extra_args[@]+"${extra_args[@]}"}
