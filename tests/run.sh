#!/usr/bin/env bash
# Set up (idempotent) and run the test suite: ./tests/run.sh [pytest args]
#   ./tests/run.sh                                  the whole suite
#   ./tests/run.sh tests/test_real_layouts.py -k ased   only what the arguments select
#   ./tests/run.sh --long                           also the long checks
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=$("$root/tools/setup.sh" --embedded-data)  # the tests make embedded data
cd "$root"
targets=(tests)  # the whole suite unless an argument names test files, folders or node ids
for a in "$@"; do
  case $a in -*) ;; *) if [ -e "${a%%::*}" ]; then targets=(); fi ;; esac
done
exec "$python" -m pytest -q -p no:cacheprovider ${targets[@]+"${targets[@]}"} "$@"
