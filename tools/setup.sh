#!/usr/bin/env bash
# Idempotent set-up for a fresh machine, run by ./run.sh and tests/run.sh:
#    tools/setup.sh [--embedded-data]
#  1. With --embedded-data only (a run that makes the embedded data, and the tests): the Debian
#     packages the data generator needs: espeak-ng, and the real voices
#     (speechbrain_ser/synth/voices.py: Fish Fillets NG Czech/Dutch dialogue, Asterisk
#     prompts); `apt-get update` only when one is missing. A run on real corpora
#     (--data-root) needs no Debian package: Python 3.11 is enough (a cluster node without root).
#  2. The project venv ($SER_VENV, default .venv) with the pinned requirements
#     and this package (editable); reinstalled only when requirements.txt or
#     pyproject.toml change (their hash is kept in the venv); the editable install
#     is repointed when the venv was copied from another checkout.
#     SER_SYSTEM_PYTHON=1: no venv; $SER_PYTHON (default python3) is used as it is (a GPU node
#     whose PyTorch comes with its image: benchmarks/gpu_check.sh).
# Prints the venv's python path on stdout; everything else goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${SER_VENV:-$root/.venv}
python=${SER_PYTHON:-python3}

embedded=false
case "${1:-}" in
  --embedded-data) embedded=true ;;
  "") ;;
  *) echo "usage: $0 [--embedded-data]" >&2; exit 1 ;;
esac
missing=()
if [ "$embedded" = true ]; then
  command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
  for pkg in fillets-ng-data-cs fillets-ng-data-nl asterisk-core-sounds-en-wav asterisk-core-sounds-fr-wav \
             asterisk-core-sounds-es-wav asterisk-core-sounds-it-wav asterisk-prompt-it-menardi-wav; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1 || { [ -n "$sudo" ] && ! command -v sudo >/dev/null 2>&1; }; then
    echo "setup: the embedded data needs the Debian packages ${missing[*]}, and this machine has no" \
         "${sudo:+sudo or }apt-get to install them: install them, or run on your corpora with --data-root" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ "${SER_SYSTEM_PYTHON:-}" = 1 ]; then  # a node or container whose packages are installed by other means
  if ! "$python" -c "import speechbrain_ser, speechbrain, hyperpyyaml, kaldiio, soundfile" >&2; then
    echo "setup: SER_SYSTEM_PYTHON=1, but $python cannot import the project and its needs (above)" >&2; exit 1
  fi
  command -v "$python"
  exit 0
fi
stamp=$(cat "$root/requirements.txt" "$root/pyproject.toml" | sha256sum | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.ser-stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "setup: building $venv from requirements.txt (first run or requirements changed)" >&2
  t0=$(date +%s)
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pip_log="$venv/pip-install.log"
  # no wheel cache: the venv holds every package once (torch and its CUDA wheels are ~3 GB more in a cache)
  if ! { "$venv/bin/python" -m pip install --disable-pip-version-check --no-cache-dir -r "$root/requirements.txt" &&
         "$venv/bin/python" -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e "$root"; \
       } > "$pip_log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$pip_log" | tail -30 >&2
    echo "setup: pip install failed; full log in $pip_log" >&2
    if grep -q "No space left on device" "$pip_log"; then
      echo "setup: the disk under $venv is full ($(df -h --output=avail "$venv" | tail -1 | tr -d ' ') free):" \
           "the venv needs about 8 GB; free space there, or set SER_VENV to a folder on another disk" >&2
    fi
    exit 1
  fi
  echo "$stamp" > "$venv/.ser-stamp"
  echo "setup: venv ready in $(( $(date +%s) - t0 ))s" >&2
fi
# A venv copied from another checkout imports that checkout's code (editable install):
# repoint it here.
where=$(cd / && "$venv/bin/python" -c "import importlib.util as u; print(u.find_spec('speechbrain_ser').origin)" 2>/dev/null || true)
if [ "$where" != "$root/speechbrain_ser/__init__.py" ]; then
  echo "setup: $venv imports speechbrain_ser from ${where:-nowhere}, not this checkout; reinstalling it here" >&2
  "$venv/bin/python" -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e "$root" >&2
fi
echo "$venv/bin/python"
