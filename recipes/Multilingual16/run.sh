#!/usr/bin/env bash
# Multilingual16 recipe. Stages: 0 data · 1 manifests · 2 labels · 3 train · 4 export + evaluate · 5 report.
# Options: tools/recipe_options.sh (`--help`); the stages: tools/recipe.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/defaults.sh"   # the default system (default_hparams, default_synth_voices)
evaluate_cmd=(-m speechbrain_ser.evaluate --task zero-shot)
report_cmd=(-m speechbrain_ser.report zero-shot)
args_in=("$@")
option_files=("$root/tools/recipe_options.sh")
. "$root/tools/recipe_options.sh"
. "$root/tools/parse_options.sh"
. "$root/tools/recipe.sh"
log "done: stages $stage-$stop_stage in $(( $(date +%s) - start ))s; outputs in $exp_dir"
