#!/usr/bin/env bash
# Stages: 0 data · 1 manifests · 2 labels · 3 train · 4 evaluate · 5 report.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
stage=0                 # first stage to run
stop_stage=5            # last stage to run
data_root=""            # corpus root holding one folder per corpus; empty = embedded synthetic data made at stage 0
exp_dir=""              # experiment folder; empty = exp/<recipe>/<size>
size=mini               # embedded data size: tiny (tests, seconds) or mini (default run)
seed=0                  # data-generation and training seed
hparams=""              # training hparams yaml (relative to this folder); empty = the CPU default
nproc=1                 # stage 3 processes (>1: torchrun DDP; gloo backend on CPU)
label_overrides=""      # stage 2 conf/labels.yaml overrides, e.g. "neutral_smoothing=false held_out=[emodb]"
# </options>
default_hparams=hparams/whisper_tiny.yaml
evaluate_cmd=(-m speechbrain_ser.msp evaluate)
report_cmd=(-m speechbrain_ser.msp report)
args_in=("$@")
. "$root/tools/parse_options.sh"
. "$root/tools/recipe.sh"
log "done: stages $stage-$stop_stage in $(( $(date +%s) - start ))s; outputs in $exp_dir"
