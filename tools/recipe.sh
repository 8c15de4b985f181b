# Shared stage driver, sourced by recipes/<name>/run.sh after option parsing.
# Needs: here (recipe folder), root (repository), and the options
# stage stop_stage data_root exp_dir size seed hparams extra_args.
log() { echo "$(date '+%F %T') [$(basename "$here"):${BASH_LINENO[0]}] $*" >&2; }
case "$size" in tiny|mini) ;; *) echo "$0: --size must be tiny or mini, got '$size'" >&2; exit 1 ;; esac
start=$(date +%s)
python=$("$root/tools/setup.sh")
recipe_name=$(basename "$here")
synth=""
if [ -z "$data_root" ]; then data_root="$root/data/synth_$size"; synth=$size; fi
exp_dir=${exp_dir:-$root/exp/$recipe_name/$size}
hparams=${hparams:-$default_hparams}
[[ $hparams = /* ]] || hparams="$here/$hparams"
mkdir -p "$exp_dir"
corpora=$("$python" -c "import yaml,sys; print(','.join(yaml.safe_load(open(sys.argv[1]))['corpora']))" "$here/conf/labels.yaml")

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  log "Stage 0: data (${synth:+embedded synthetic $synth data in }$data_root)"
  "$python" -m speechbrain_ser.prepare data --data-root "$data_root" --corpora "$corpora" \
    ${synth:+--synth-size "$synth"} --seed "$seed"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  log "Stage 1: manifests -> $exp_dir/data/manifests"
  "$python" -m speechbrain_ser.prepare manifests --data-root "$data_root" --corpora "$corpora" \
    --out "$exp_dir/data/manifests"
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  log "Stage 2: labels ($here/conf/labels.yaml) -> $exp_dir/data/labels"
  "$python" -m speechbrain_ser.prepare labels --config "$here/conf/labels.yaml" \
    --manifests "$exp_dir/data/manifests" --out "$exp_dir/data/labels"
fi
