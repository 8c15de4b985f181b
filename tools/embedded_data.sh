# Where the embedded data of one (size, seed, voices) lives: sourced by tools/recipe.sh and by the
# recipes' helper scripts (ablate.sh, seeds.sh), so every script trains on the data stage 0 made.
# Keyed by what makes it (another seed or voice set never rewrites this one's audio); under
# $SER_DATA_DIR when set (a shared or larger disk), else the repository's data/.
#   embedded_data_root SIZE SEED VOICES     (needs $root, the repository)
embedded_data_root() {
  local dir="${SER_DATA_DIR:-$root/data}/synth_$1"
  [ "$2" = 0 ] || dir+="_seed$2"
  [ "$3" = espeak ] || dir+="_$3"
  echo "$dir"
}
