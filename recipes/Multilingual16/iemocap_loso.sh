#!/usr/bin/env bash
# IEMOCAP leave-one-session-out under its standard 4-class protocol (neutral, happiness +
# excitement, sadness, anger): five runs, session N the test session (and N-1 dev), then
# the mean ± sample std of the five test scores of the `iemocap_4class` protocol row.
#   recipes/Multilingual16/iemocap_loso.sh --data-root /corpora [--sessions "1 2 3 4 5"] [-- training overrides]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# <options>
sessions="1 2 3 4 5"    # test sessions, one training run each
size=mini               # embedded data size (when --data-root is empty)
data_root=""            # corpus root holding IEMOCAP_full_release
out=""                  # folder; empty = exp/Multilingual16/iemocap_loso
label_overrides=""      # e.g. "corpora=[iemocap] held_out=[]" to train on IEMOCAP alone
# </options>
. "$root/tools/parse_options.sh"
out=${out:-$root/exp/Multilingual16/iemocap_loso}
python=$("$root/tools/setup.sh")
for s in $sessions; do
  echo "== IEMOCAP Session$s as test" >&2
  "$here/run.sh" --size "$size" --exp-dir "$out/session$s" ${data_root:+--data-root "$data_root"} \
    --reader-options "iemocap.test_session=$s" ${label_overrides:+--label-overrides "$label_overrides"} \
    -- ${extra_args[@]+"${extra_args[@]}"}
done
"$python" - "$out" $sessions <<'PY'
import csv, statistics, sys
from pathlib import Path
out, rows = Path(sys.argv[1]), []
for s in sys.argv[2:]:
    with open(out / f"session{s}" / "train" / "results" / "zero_shot.csv") as f:
        rows += [r for r in csv.DictReader(f) if r["set"] == "test" and r["name"] == "iemocap_4class"
                 and r.get("mode", "lone") == "lone"]  # each file alone
for k in ("accuracy", "uar", "macro_f1"):
    v = [float(r[k]) for r in rows]
    sd = f"{statistics.stdev(v):.3f}" if len(v) > 1 else "n/a"
    print(f"IEMOCAP 4-class LOSO ({len(v)} sessions) {k}: {statistics.mean(v):.3f} ± {sd}")
PY
