# Shared stage driver, sourced by recipes/<name>/run.sh after option parsing.
# Needs: here (recipe folder), root (repository), default_hparams and default_synth_voices (the recipe's defaults.sh), evaluate_cmd and
# report_cmd (python arguments of stages 4 and 5), args_in (the command line) and
# the options stage stop_stage data_root exp_dir size seed hparams nproc
# label_overrides strict max_reject reader_options wait_lock device precision extra_args.
log() { echo "$(date '+%F %T') [$(basename "$here"):${BASH_LINENO[0]}] $*" >&2; }
case "$size" in tiny|mini) ;; *) echo "$0: --size must be tiny or mini, got '$size'" >&2; exit 1 ;; esac
start=$(date +%s)
printf -v rerun_command '%q ' "$0" "${args_in[@]}"
recipe_name=$(basename "$here")
hparams=${hparams:-$default_hparams}
[[ $hparams = /* ]] || hparams="$here/$hparams"
label_config=${label_config:-conf/labels.yaml}
[[ $label_config = /* ]] || label_config="$here/$label_config"
if [ -z "$exp_dir" ] && [ -z "$data_root" ]; then
  exp_dir=$root/exp/$recipe_name/$size  # the embedded data's run
elif [ -z "$exp_dir" ]; then  # your corpora: a folder named by what runs, never the embedded data's
  what=$(printf '%s\n' "$label_overrides" ${extra_args[@]+"${extra_args[@]}"} | sha1sum | cut -c1-8)
  [ -n "$label_overrides$(printf '%s' ${extra_args[@]+"${extra_args[@]}"})" ] || what=""
  exp_dir=$root/exp/$recipe_name/$(basename "$label_config" .yaml)-$(basename "$hparams" .yaml)${what:+-$what}-seed$seed
fi
for path in "$exp_dir" "$data_root"; do  # both reach SpeechBrain's overrides, which split "--key=value" at every '='
  case "$path" in *=*) echo "$0: '$path' contains '=', which SpeechBrain's command-line overrides cannot carry; use a path without '='" >&2; exit 1 ;; esac
done
mkdir -p "$exp_dir"
# One writer per experiment folder: an OS lock (flock) on <exp_dir>/.run.lock, held by this run and
# its children and released by the kernel when they end, however they end (a killed run leaves no
# stale lock). The holder is described in .run.lock.holder; read-only use (ser-predict) takes no lock.
exec 9>>"$exp_dir/.run.lock"
if ! flock -n 9; then
  holder=$(cat "$exp_dir/.run.lock.holder" 2>/dev/null || echo "unknown holder")
  if [ "$wait_lock" != true ]; then
    echo "$0: $exp_dir is in use by another run ($holder); use another --exp-dir, wait for it, or --wait-lock true" >&2
    exit 75
  fi
  log "waiting for $exp_dir, in use by another run ($holder)"
  flock 9
fi
printf 'pid %s on %s since %s: %s\n' "$$" "$(uname -n)" "$(date '+%F %T')" "$rerun_command" > "$exp_dir/.run.lock.holder"
# the Debian packages only where the embedded data is made: with --data-root, Python is enough
python=$("$root/tools/setup.sh" $([ -n "$data_root" ] || echo --embedded-data))
synth=""
synth_voices=${synth_voices:-$default_synth_voices}
. "$root/tools/embedded_data.sh"
if [ -z "$data_root" ]; then
  data_root=$(embedded_data_root "$size" "$seed" "$synth_voices"); synth=$size
fi
# the recipe's corpora, after --label-overrides (e.g. "corpora=[...,nemo] held_out=[emodb,nemo]")
# (one argument: prepare.split_overrides splits it, so quoted and bracketed values keep their spaces)
corpora=$("$python" -m speechbrain_ser.prepare corpora --config "$label_config" "$label_overrides")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: data (${synth:+embedded synthetic $synth data in }$data_root)"
  "$python" -m speechbrain_ser.prepare data --data-root "$data_root" --corpora "$corpora" \
    ${synth:+--synth-size "$synth" --synth-voices "$synth_voices"} --seed "$seed"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: manifests -> $exp_dir/data/manifests"
  reader_args=()
  for o in $reader_options; do reader_args+=(--reader-option "$o"); done
  "$python" -m speechbrain_ser.prepare manifests --data-root "$data_root" --corpora "$corpora" \
    --out "$exp_dir/data/manifests" --max-reject "$max_reject" ${reader_args[@]+"${reader_args[@]}"} \
    $([ "$strict" = true ] && echo --strict)
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: labels ($label_config) -> $exp_dir/data/labels"
  "$python" -m speechbrain_ser.prepare labels --config "$label_config" \
    --manifests "$exp_dir/data/manifests" --out "$exp_dir/data/labels" "$label_overrides"
fi
if [ -z "$device" ]; then  # CUDA when present
  device=$("$python" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')")
fi
case "$precision" in ""|fp32|bf16|fp16) ;; *) echo "$0: --precision must be fp32, bf16 or fp16, got '$precision'" >&2; exit 1 ;; esac
train_args=(--labels_folder "$exp_dir/data/labels" --data_root "$data_root" --output_folder "$exp_dir/train"
            --seed "$seed" --device "$device" ${precision:+--precision "$precision"} ${extra_args[@]+"${extra_args[@]}"})
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  log "Stage 3: train $hparams -> $exp_dir/train (resumes from the last checkpoint)"
  if [ "${nproc:-1}" -gt 1 ]; then
    "$(dirname "$python")/torchrun" --standalone --nproc_per_node "$nproc" -m speechbrain_ser.train \
      "$hparams" "${train_args[@]}" --distributed_backend "$([[ $device = cuda* ]] && echo nccl || echo gloo)"
  else
    "$python" -m speechbrain_ser.train "$hparams" "${train_args[@]}"
  fi
fi
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  log "Stage 4: export the selected checkpoint -> $exp_dir/model; predict and score through it -> $exp_dir/train/results"
  "$python" "${evaluate_cmd[@]}" --train-dir "$exp_dir/train" --labels "$exp_dir/data/labels" \
    --data-root "$data_root" --model-dir "$exp_dir/model" --device "$device"
fi
if [ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ]; then
  log "Stage 5: report -> $exp_dir/report"
  "$python" "${report_cmd[@]}" --exp-dir "$exp_dir" --command "$rerun_command"
fi
if [ "$stop_stage" -ge 4 ] && [ -f "$exp_dir/model/hyperparams.yaml" ]; then
  log "the exported model; apply it to your audio with:"
  echo "$(dirname "$python")/ser-predict --model $exp_dir/model <audio files or folders> --out predictions.csv"
fi
