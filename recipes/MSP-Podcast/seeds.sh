#!/usr/bin/env bash
# Train and evaluate one or more hparams files over K seeds; print mean ± std on Development.
#   recipes/MSP-Podcast/seeds.sh --hparams "hparams/whisper_tiny_ce.yaml hparams/whisper_tiny_wbce_s.yaml"
#                                [--seeds "0 1 2 3 4"] [--size mini] [-- training overrides]
# Runs go to <out>/<system>_seed<k>; finished stages are skipped, so a rerun continues.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
hparams="hparams/whisper_tiny.yaml"   # one or more hparams files (space-separated, relative to this folder)
seeds="0 1 2 3 4"       # training seeds (the data seed stays 0)
size=mini               # embedded data size
data_root=""            # corpus root; empty = embedded data of --size
synth_voices=""         # embedded data audio; empty = the recipe's default (defaults.sh)
out=""                  # folder; empty = exp/MSP-Podcast/seeds_<size>
# </options>
. "$root/tools/parse_options.sh"
. "$here/defaults.sh"
. "$root/tools/embedded_data.sh"
synth_voices=${synth_voices:-$default_synth_voices}
out=${out:-$root/exp/MSP-Podcast/seeds_$size}
python=$("$root/tools/setup.sh")
# the seed-0 data, made once, for every training seed (the data stage 0 of run.sh makes and reads)
"$here/run.sh" --size "$size" --stop-stage 0 --synth-voices "$synth_voices" --exp-dir "$out/_data" \
  ${data_root:+--data-root "$data_root"}
data_root=${data_root:-$(embedded_data_root "$size" 0 "$synth_voices")}
for hp in $hparams; do
  name=$(basename "$hp" .yaml)
  for s in $seeds; do
    echo "== $name seed $s" >&2
    "$here/run.sh" --size "$size" --stage 1 --stop-stage 4 --exp-dir "$out/${name}_seed$s" --hparams "$hp" \
      --seed "$s" --data-root "$data_root" -- ${extra_args[@]+"${extra_args[@]}"}
  done
done
"$python" -m speechbrain_ser.msp seeds --runs "$out" | tee "$out/seeds.md"
