# Options shared by ./run.sh and every recipes/<name>/run.sh (read by parse_options.sh:
# each `name=default  # help` line between the markers is an option --name).
# <options>
stage=0                 # first stage to run
stop_stage=5            # last stage to run
data_root=""            # corpus root holding one folder per corpus; empty = embedded synthetic data made at stage 0
exp_dir=""              # experiment folder; empty = exp/<recipe>/<size> on the embedded data, with --data-root exp/<recipe>/<label config>-<hparams>[-<hash of the overrides>]-seed<N>
size=mini               # embedded data size: tiny (tests, seconds) or mini (default run)
seed=0                  # data-generation and training seed
synth_voices=""         # embedded data audio, one of speechbrain_ser/synth/voices.py VOICE_CHOICES (real, espeak, neutral); empty = the recipe's default (its defaults.sh)
hparams=""              # training hparams yaml (relative to the recipe folder); empty = the recipe's CPU default
nproc=1                 # stage 3 processes (>1: torchrun DDP; NCCL on CUDA, gloo on CPU)
device=""               # stages 3-4 device, e.g. cuda, cuda:1, cpu; empty = cuda when present, else cpu
precision=""            # stage 3 autocast: fp32, bf16 or fp16; empty = the hparams file's (fp32 unless it says)
label_config=""         # stage-2 label config (relative to the recipe folder); empty = conf/labels.yaml (Multilingual16 on the real corpora of ../shared/real: conf/labels_real.yaml)
label_overrides=""      # label config overrides, e.g. "corpora=[ravdess,urdu] held_out=[urdu] score_as.urdu.Sad=sadness" (corpora= also picks what stages 0-1 read; dotted keys merge)
strict=false            # stage 1: true = any rejected file (odd name, unreadable audio) is an error
max_reject=0.05         # stage 1: share of a corpus's files that may be rejected before the corpus is an error
reader_options=""       # stage 1 reader options, e.g. "iemocap.self_evaluations=true"
wait_lock=false         # true = wait for another run on the same --exp-dir to finish instead of stopping
# </options>
