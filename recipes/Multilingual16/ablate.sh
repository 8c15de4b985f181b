#!/usr/bin/env bash
# Ablations of Multilingual16 over seeds, then one comparison table (mean ± std).
#   recipes/Multilingual16/ablate.sh [--variants "full hard no_smoothing no_adversarial"]
#                                    [--seeds "0 1 2"] [--size mini] [--out exp/Multilingual16/ablation]
#                                    [--hparams H] [--synth-voices V] [-- training overrides for every run]
# Each run is stages 1-4 of this recipe in <out>/<variant>_seed<k>; finished runs are skipped
# (their stages are up to date), so an interrupted ablation continues. Every run trains on the data
# stage 0 made for seed 0 (tools/embedded_data.sh names it); a variant that changes nothing for the
# system (no_augment of a system without augmentation) stops the script before any run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
variants="full hard no_smoothing no_adversarial"  # which switches to compare (no_augment: systems with augmentation)
seeds="0 1 2"           # training seeds (the data seed stays 0)
size=mini               # embedded data size
data_root=""            # corpus root; empty = embedded data of --size
synth_voices=""         # embedded data audio; empty = the recipe's default (defaults.sh)
hparams=""              # system (relative to this folder); empty = the recipe's default (defaults.sh)
out=""                  # ablation folder; empty = exp/Multilingual16/ablation_<size>
# </options>
. "$root/tools/parse_options.sh"
. "$here/defaults.sh"
. "$root/tools/embedded_data.sh"
synth_voices=${synth_voices:-$default_synth_voices}
hparams=${hparams:-$default_hparams}
out=${out:-$root/exp/Multilingual16/ablation_$size}
python=$("$root/tools/setup.sh")
variant() {  # sets labels and train for variant $1
  labels=""; train=()
  case "$1" in
    full) ;;
    hard) train=(--hard_targets True) ;;
    no_smoothing) labels="neutral_smoothing=false" ;;
    no_adversarial) train=(--domain_weight 0.0) ;;
    no_augment) train=(--augment False) ;;
    *) echo "$0: unknown variant '$1'" >&2; exit 1 ;;
  esac
}
for v in $variants; do  # a variant that changes nothing for this system is an error, before any run
  variant "$v"
  [ "$v" = full ] || "$python" -m speechbrain_ser.hparams changes "$here/$hparams" --name "$v" \
    --labels-config "$here/conf/labels.yaml" --label-overrides "$labels" -- ${train[@]+"${train[@]}"} >&2
done
# the seed-0 data, made once, for every training seed (the data stage 0 of run.sh makes and reads)
"$here/run.sh" --size "$size" --stop-stage 0 --synth-voices "$synth_voices" --exp-dir "$out/_data" \
  ${data_root:+--data-root "$data_root"}
data_root=${data_root:-$(embedded_data_root "$size" 0 "$synth_voices")}
for v in $variants; do
  variant "$v"
  for s in $seeds; do
    echo "== $v seed $s" >&2
    "$here/run.sh" --size "$size" --stage 1 --stop-stage 4 --exp-dir "$out/${v}_seed$s" --hparams "$hparams" \
      --seed "$s" --data-root "$data_root" --label-overrides "$labels" \
      -- ${train[@]+"${train[@]}"} ${extra_args[@]+"${extra_args[@]}"}
  done
done
"$python" -m speechbrain_ser.report ablation --runs "$out" --out "$out/ablation.md"
