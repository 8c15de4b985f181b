#!/usr/bin/env bash
# Set up (idempotent) and run the test suite: ./tests/run.sh [pytest args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=$("$root/tools/setup.sh")
cd "$root"
exec "$python" -m pytest -q -p no:cacheprovider tests "$@"
