#!/usr/bin/env bash
# Leave-one-language-out: for each language, every utterance in that language is held out
# (never trained on or used for selection; a bilingual corpus such as ESD keeps its other
# language in training), train, and score zero-shot on the held-out utterances.
#   recipes/Multilingual16/lolo.sh [--languages "de el ur bn"] [--size mini] [-- training overrides]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
languages="de el ur bn it fr fa es zh"   # languages to hold out, one training run each
size=mini               # embedded data size
data_root=""            # corpus root; empty = embedded data of --size
out=""                  # folder; empty = exp/Multilingual16/lolo_<size>
stop_stage=5            # last stage of each run (2 = labels only, to inspect the held-out sets)
# </options>
. "$root/tools/parse_options.sh"
out=${out:-$root/exp/Multilingual16/lolo_$size}
python=$("$root/tools/setup.sh")
"$here/run.sh" --size "$size" --stop-stage 1 --exp-dir "$out/_manifests" ${data_root:+--data-root "$data_root"}
for lang in $languages; do
  held=$("$python" -c "
import json, pathlib, sys
d, n = pathlib.Path(sys.argv[1]), {}
for c in json.loads((d / 'counts.json').read_text()):
    k = sum(e['language'] == sys.argv[2] for e in json.loads((d / f'{c}.json').read_text()).values())
    if k:
        n[c] = k
print(', '.join(f'{c} ({k})' for c, k in n.items()))" "$out/_manifests/data/manifests" "$lang")
  if [ -z "$held" ]; then echo "$0: no utterance is in language '$lang'" >&2; exit 1; fi
  echo "== hold out every '$lang' utterance: $held" >&2
  "$here/run.sh" --size "$size" --stage 1 --stop-stage "$stop_stage" --exp-dir "$out/$lang" \
    ${data_root:+--data-root "$data_root"} --label-overrides "held_out=[] held_out_languages=[$lang]" \
    -- ${extra_args[@]+"${extra_args[@]}"}
done
