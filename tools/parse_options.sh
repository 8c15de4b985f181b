# Option parser sourced by run.sh and the recipes' run.sh (Kaldi parse_options.sh
# semantics). Options are the variables declared between the `# <options>` and
# `# </options>` lines of the calling script and of the files in the array
# `option_files` (if set), each `name=default  # help`.
# `--stop-stage 3` and `--stop_stage 3` both set stop_stage; an unknown option
# is an error with the usage text; `--help` prints every option and its default.
# Arguments after `--` are kept in the array `extra_args` (passed to the recipe).
_ser_files=("$0" ${option_files[@]+"${option_files[@]}"})
_ser_usage() {
  echo "usage: $0 [options] [-- recipe/training overrides]"
  echo "options (default in brackets):"
  sed -n '/^# <options>/,/^# <\/options>/p' "${_ser_files[@]}" | grep -v '^# <' |
    sed -E 's/^([a-z_]+)=("[^"]*"|[^ ]*)[[:space:]]*#[[:space:]]*(.*)$/  --\1 [\2]  \3/; s/--([a-z]+)_([a-z_]+)/--\1-\2/g'
  local ids
  ids=$(cd "$(dirname "${BASH_SOURCE[0]}")/../speechbrain_ser/corpora" && ls ./*.py | sed 's|^\./||; s|\.py$||' |
        grep -vx -e base -e __init__ | tr '\n' ' ')
  cat <<EOF
stages (outputs under --exp-dir; default exp/<recipe>/<size>, or with --data-root a folder named by the run):
  0 data       embedded synthetic corpora (data/synth_<size>), or check the --data-root folders
  1 manifests  data/manifests/<corpus>.json, rejected_<corpus>.tsv
  2 labels     data/labels/{train,dev,test}.json, zeroshot_<corpus>.json, summary.json
  3 train      train/ (save/ checkpoints, train_log.txt, hyperparams.yaml)
  4 evaluate   model/ (the exported model), train/results/ (predictions_<set>.csv, zero_shot.csv
               or msp_metrics.csv, calibration.csv; shift/ the optional extras)
  5 report     report/report.md and figures (also appended to model/README.md)
corpus ids (for --label-overrides; stages 0-1 read the corpora its "corpora=[...]" names):
  $ids
example: $0 --data-root /corpora --label-overrides "corpora=[ravdess,urdu] held_out=[urdu]"
EOF
}
_ser_known=$(sed -n '/^# <options>/,/^# <\/options>/p' "${_ser_files[@]}" | grep -oE '^[a-z_]+=' | tr -d '=')
extra_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) _ser_usage; exit 0 ;;
    --) shift; extra_args=("$@"); break ;;
    --*=*) _ser_name=${1%%=*}; _ser_val=${1#*=}; shift ;;
    --*) _ser_name=$1; [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; _ser_usage >&2; exit 1; }
         _ser_val=$2; shift 2 ;;
    *) echo "$0: unexpected argument '$1'" >&2; _ser_usage >&2; exit 1 ;;
  esac
  _ser_name=${_ser_name#--}; _ser_name=${_ser_name//-/_}
  if ! grep -qx "$_ser_name" <<< "$_ser_known"; then
    echo "$0: unknown option --${_ser_name//_/-}" >&2; _ser_usage >&2; exit 1
  fi
  printf -v "$_ser_name" '%s' "$_ser_val"
done
for _ser_n in stage stop_stage seed nproc; do
  if [ -n "${!_ser_n+x}" ] && ! [[ ${!_ser_n} =~ ^[0-9]+$ ]]; then
    echo "$0: --${_ser_n//_/-} must be a non-negative integer, got '${!_ser_n}'" >&2; exit 1
  fi
done
for _ser_n in strict wait_lock; do
  if [ -n "${!_ser_n+x}" ] && [ "${!_ser_n}" != true ] && [ "${!_ser_n}" != false ]; then
    echo "$0: --${_ser_n//_/-} must be true or false, got '${!_ser_n}'" >&2; exit 1
  fi
done
unset _ser_name _ser_val _ser_known _ser_n
