# The recipe's CPU default system, read by run.sh and the helper scripts (ablate.sh, lolo.sh, ...):
# real voices with rendered emotion, frozen speaker-normalised Whisper tiny.en.
default_hparams=hparams/whisper_tiny_frozen.yaml
default_synth_voices=real
