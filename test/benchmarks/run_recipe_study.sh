#!/usr/bin/env bash
# Issue 14's pretraining recipe study: sample quality against wall-clock time for the settings that
# matter, on her2st-C2's tiles at 64 um / 32 px, on this machine. Resumable (run it again after a kill).
#   bash test/benchmarks/run_recipe_study.sh [BUILD_DIR] [WORK_DIR] [SETTING ...]
# Every setting is the committed model's recipe (width 32, 3 scales, one ResNet per scale, batch 32,
# AdamW 5e-4 after a 2 % warm-up then cosine, epsilon prediction, min-SNR 5, EMA 0.999) with one
# change. Each trains STEPS steps with a snapshot every STEPS / 4; every snapshot's samples (SAMPLES,
# DDIM 50, seed 0) are measured against the held-out tiles. recipe-study.tsv: setting, step, training
# seconds, classifier AUC, nuclei per patch and gradient energy against real (%).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(realpath "${1:-$here/../../build}")"
work="${2:-$build/recipe-study}"
shift $(( $# > 2 ? 2 : $# ))
data="$(realpath "${SpatialTranscriptomics_SHARED_DATA_DIR:-$here/../../../shared/data}")"
c2l="$build/examples/c2l/c2l"
measures="$build/test/benchmarks/CentralModelMeasures"
STEPS="${STEPS:-2000}"
SAMPLES="${SAMPLES:-300}"
export OMP_WAIT_POLICY=passive
declare -A change=(
  [base]=""
  [lr2e-4]="--lr 2e-4"
  [v-prediction]="--prediction v_prediction"
  [no-min-snr]="--snr-gamma 0"
  [batch16]="--batch 16"
  [ema0.9999]="--ema 0.9999"
  [width64]="--base-channels 64"
)
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=(base lr2e-4 v-prediction no-min-snr batch16 ema0.9999 width64)
mkdir -p "$work" && cd "$work"

bash "$here/extract_her2st_tiles.sh" "$c2l" "$data" .

[ -f recipe-study.tsv ] || printf 'setting\tstep\tseconds\tclassifier_auc\tnuclei_pct\tgradient_pct\n' > recipe-study.tsv
for setting in "${settings[@]}"; do
  [ -n "${change[$setting]+set}" ] || { echo "unknown setting $setting (known: ${!change[*]})" >&2; exit 2; }
  model="$setting.safetensors"
  if [ ! -f "$model" ]; then
    resume=(); [ -f "$model.checkpoint" ] && resume=(--resume)
    # shellcheck disable=SC2086  # the change is a list of options
    "$c2l" pretrain --data tiles_training.h5 --out "$model" --base-channels 32 --scales 3 --layers-per-block 1 \
      --steps "$STEPS" --batch 32 --lr 5e-4 --warmup 0.02 --ema 0.999 --snr-gamma 5 --prediction epsilon \
      ${change[$setting]} --checkpoint-every 250 --snapshot-every $((STEPS / 4)) --loss-log "$setting-loss.tsv" \
      --seed 1 "${resume[@]}"
  fi
  for step in $((STEPS / 4)) $((STEPS / 2)) $((3 * STEPS / 4)) "$STEPS"; do
    grep -q "^$setting	$step	" recipe-study.tsv && continue
    snapshot="$setting-step-$step.safetensors"
    "$measures" tiles_heldout.h5 "$snapshot" "$SAMPLES" 50 0 - ddim > "$setting-step-$step.measures"
    seconds="$(awk -F'\t' -v s="$step" '$1 == s { print $4 }' "$setting-loss.tsv")"
    awk -F'\t' -v name="$setting" -v step="$step" -v seconds="$seconds" '
      $1 == "classifier_auc" { auc = $2 }
      $1 == "nuclei_per_patch" { n = split($2, f, " "); nuclei = f[n - 1] }
      $1 == "gradient_energy" { n = split($2, f, " "); gradient = f[n - 1] }
      END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", name, step, seconds, auc, nuclei, gradient }' \
      "$setting-step-$step.measures" >> recipe-study.tsv
  done
done
column -t recipe-study.tsv
