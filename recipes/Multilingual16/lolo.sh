#!/usr/bin/env bash
# Leave-one-language-out: for each language, hold out every corpus in that
# language (never trained on or used for selection), train, and score zero-shot.
#   recipes/Multilingual16/lolo.sh [--languages "de el ur bn"] [--size mini] [-- training overrides]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
languages="de el ur bn it fr fa es"   # languages to hold out, one training run each
size=mini               # embedded data size
data_root=""            # corpus root; empty = embedded data of --size
out=""                  # folder; empty = exp/Multilingual16/lolo_<size>
# </options>
. "$root/tools/parse_options.sh"
out=${out:-$root/exp/Multilingual16/lolo_$size}
python=$("$root/tools/setup.sh")
"$here/run.sh" --size "$size" --stop-stage 1 --exp-dir "$out/_manifests" ${data_root:+--data-root "$data_root"}
for lang in $languages; do
  held=$("$python" -c "
import json, sys
counts = json.load(open(sys.argv[1]))
langs = {c: {e['language'] for e in json.load(open(sys.argv[2] + '/' + c + '.json')).values()} for c in counts}
print(','.join(c for c, ls in sorted(langs.items()) if ls == {sys.argv[3]}))" \
    "$out/_manifests/data/manifests/counts.json" "$out/_manifests/data/manifests" "$lang")
  if [ -z "$held" ]; then echo "$0: no corpus is only in language '$lang'" >&2; exit 1; fi
  echo "== hold out $lang: $held" >&2
  "$here/run.sh" --size "$size" --stage 1 --stop-stage 5 --exp-dir "$out/$lang" \
    ${data_root:+--data-root "$data_root"} --label-overrides "held_out=[$held]" \
    -- ${extra_args[@]+"${extra_args[@]}"}
done
