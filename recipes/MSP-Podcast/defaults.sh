# The recipe's CPU default system, read by run.sh and the helper scripts (seeds.sh): espeak-ng data
# (its synthetic MSP-Podcast tests the machinery only), fine-tuned Whisper tiny.en.
default_hparams=hparams/whisper_tiny.yaml
default_synth_voices=espeak
