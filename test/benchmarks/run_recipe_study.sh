#!/usr/bin/env bash
# Issue 14's pretraining recipe study: sample quality against wall-clock time for the settings that
# matter, on her2st-C2's tiles at 64 um / 32 px, on this machine. Resumable (run it again after a kill).
#   bash test/benchmarks/run_recipe_study.sh [BUILD_DIR] [WORK_DIR] [SETTING ...]
# Every setting is c2l pretrain's CPU recipe (width 32, 3 scales, one ResNet per scale, batch 32,
# AdamW 5e-4 after a 2 % warm-up then cosine, v-prediction, min-SNR 5, EMA 0.999) with one change;
# "epsilon" is the committed model's recipe. Each trains STEPS steps with a snapshot every STEPS / 4;
# every snapshot's samples (SAMPLES, DDIM 50, seed 0) are measured against the held-out tiles.
# recipe-study.tsv: setting, step, training seconds as the run went, the same at the setting's
# seconds per step measured alone (step-seconds.tsv: 30 steps of every setting one after the other
# before the long runs, the median step of the last 25; the long runs may share the machine),
# classifier AUC, nuclei per patch and gradient energy against real (%).
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
  [epsilon]="--prediction epsilon"
  [no-min-snr]="--snr-gamma 0"
  [batch16]="--batch 16"
  [ema0.9999]="--ema 0.9999"
  [width64]="--base-channels 64"
)
settings=("$@")
[ ${#settings[@]} -gt 0 ] || settings=(base epsilon lr2e-4 no-min-snr batch16 ema0.9999 width64)
mkdir -p "$work" && cd "$work"

bash "$here/extract_her2st_tiles.sh" "$c2l" "$data" .

for setting in "${settings[@]}"; do
  [ -n "${change[$setting]+set}" ] || { echo "unknown setting $setting (known: ${!change[*]})" >&2; exit 2; }
done
mkdir -p timing
[ -f step-seconds.tsv ] || printf 'setting\tseconds_per_step\n' > step-seconds.tsv
for setting in "${settings[@]}"; do
  grep -q "^$setting	" step-seconds.tsv && continue
  # shellcheck disable=SC2086
  "$c2l" pretrain --recipe cpu --data tiles_training.h5 --out "timing/$setting.safetensors" --steps 30 \
    ${change[$setting]} --loss-log "timing/$setting-loss.tsv" --seed 1 --force > /dev/null
  awk -F'\t' 'NR > 1 { t[NR - 1] = $4 } END { for (i = 6; i <= 30; ++i) print t[i] - t[i - 1] }' \
    "timing/$setting-loss.tsv" | sort -g | sed -n 13p | xargs printf '%s\t%.3f\n' "$setting" >> step-seconds.tsv
done

[ -f recipe-study.tsv ] ||
  printf 'setting\tstep\tseconds\tseconds_alone\tclassifier_auc\tnuclei_pct\tgradient_pct\n' > recipe-study.tsv
for setting in "${settings[@]}"; do
  alone="$(awk -F'\t' -v s="$setting" '$1 == s { print $2 }' step-seconds.tsv)"
  model="$setting.safetensors"
  if [ ! -f "$model" ]; then
    resume=(); [ -f "$model.checkpoint" ] && resume=(--resume)
    # shellcheck disable=SC2086  # the change is a list of options
    "$c2l" pretrain --recipe cpu --data tiles_training.h5 --out "$model" --steps "$STEPS" ${change[$setting]} \
      --checkpoint-every 250 --snapshot-every $((STEPS / 4)) --loss-log "$setting-loss.tsv" --seed 1 "${resume[@]}"
  fi
  for step in $((STEPS / 4)) $((STEPS / 2)) $((3 * STEPS / 4)) "$STEPS"; do
    grep -q "^$setting	$step	" recipe-study.tsv && continue
    snapshot="$setting-step-$step.safetensors"
    "$measures" tiles_heldout.h5 "$snapshot" "$SAMPLES" 50 0 - ddim > "$setting-step-$step.measures"
    seconds="$(awk -F'\t' -v s="$step" '$1 == s { print $4 }' "$setting-loss.tsv")"
    awk -F'\t' -v name="$setting" -v step="$step" -v seconds="$seconds" -v alone="$alone" '
      $1 == "classifier_auc" { auc = $2 }
      $1 == "nuclei_per_patch" { n = split($2, f, " "); nuclei = f[n - 1] }
      $1 == "gradient_energy" { n = split($2, f, " "); gradient = f[n - 1] }
      END { printf "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\n", name, step, seconds, step * alone, auc, nuclei, gradient }' \
      "$setting-step-$step.measures" >> recipe-study.tsv
  done
done
column -t recipe-study.tsv
