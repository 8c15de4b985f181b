#!/usr/bin/env bash
# Ablations of Multilingual16 over seeds, then one comparison table (mean ± std).
#   recipes/Multilingual16/ablate.sh [--variants "full hard no_smoothing no_adversarial no_augment"]
#                                    [--seeds "0 1 2"] [--size mini] [--out exp/Multilingual16/ablation]
#                                    [-- training overrides for every run]
# Each run is stages 1-4 of this recipe in <out>/<variant>_seed<k>; finished runs are skipped
# (their stages are up to date), so an interrupted ablation continues.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
variants="full hard no_smoothing no_adversarial no_augment"  # which switches to compare
seeds="0 1 2"           # training seeds (the data seed stays 0)
size=mini               # embedded data size
data_root=""            # corpus root; empty = embedded data of --size
out=""                  # ablation folder; empty = exp/Multilingual16/ablation_<size>
# </options>
. "$root/tools/parse_options.sh"
out=${out:-$root/exp/Multilingual16/ablation_$size}
python=$("$root/tools/setup.sh")
"$here/run.sh" --size "$size" --stop-stage 0 ${data_root:+--data-root "$data_root"}  # data made once, seed 0
data_root=${data_root:-$root/data/synth_$size}  # the seed-0 embedded data, for every training seed
for v in $variants; do
  labels=""; train=()
  case "$v" in
    full) ;;
    hard) train=(--hard_targets True) ;;
    no_smoothing) labels="neutral_smoothing=false" ;;
    no_adversarial) train=(--domain_weight 0.0) ;;
    no_augment) train=(--augment False) ;;
    *) echo "$0: unknown variant '$v'" >&2; exit 1 ;;
  esac
  for s in $seeds; do
    echo "== $v seed $s" >&2
    "$here/run.sh" --size "$size" --stage 1 --stop-stage 4 --exp-dir "$out/${v}_seed$s" \
      --seed "$s" ${data_root:+--data-root "$data_root"} --label-overrides "$labels" \
      -- ${train[@]+"${train[@]}"} ${extra_args[@]+"${extra_args[@]}"}
  done
done
"$python" -m speechbrain_ser.report ablation --runs "$out" --out "$out/ablation.md"
