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
# </options>
option_files=("$here/tools/recipe_options.sh")
. "$here/tools/recipe_options.sh"
. "$here/tools/parse_options.sh"
if [ ! -x "$here/recipes/$recipe/run.sh" ]; then
  echo "$0: unknown recipe '$recipe' (have: $(ls "$here/recipes" | tr '\n' ' '))" >&2; exit 1
fi
# every option of tools/recipe_options.sh, forwarded by name (the one list of them)
args=()
for name in $(sed -n '/^# <options>/,/^# <\/options>/p' "$here/tools/recipe_options.sh" | grep -oE '^[a-z_]+='); do
  name=${name%=}; args+=("--${name//_/-}" "${!name}")
done
exec "$here/recipes/$recipe/run.sh" "${args[@]}" -- ${extra_args[@]+"${extra_args[@]}"}
