#!/usr/bin/env bash
# Issue 14's long run: the CPU recipe of c2l pretrain on real tissue (her2st-C2), resumable:
#   bash test/benchmarks/run_central_pretraining.sh [BUILD_DIR] [WORK_DIR]
# 1. Tiles of 64 um at 32 px (2 um/px), Macenko-normalised to TIAToolbox's target, with a spatial
#    hold-out (blocks of 4 x 4 tiles, every third held out): training and held-out sets.
# 2. The central model pretrained on the training tiles with `--recipe cpu` for STEPS steps
#    (checkpoints every 250 steps: run the script again after a kill and it resumes; the model every
#    STEPS / 6 steps as central-step-N.safetensors), its training curve in loss.tsv.
# 3. The sample measures against the held-out tiles (one sample per held-out tile) of the training
#    tiles, of colour noise and of the model's samples: DDIM at 50 steps with sampling seeds 0, 1 and
#    2, DPM-Solver++ at 20 steps with seed 0; 8 x 8 sample grids; a figure spec of the training curve
#    (render it with `xvfb-run -a c2l render-figures --spec central-figures.json`).
# The committed model's own command is in models/README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(realpath "${1:-$here/../../build}")"
work="${2:-$build/central-pretraining}"
data="$(realpath "${SpatialTranscriptomics_SHARED_DATA_DIR:-$here/../../../shared/data}")"
c2l="$build/examples/c2l/c2l"
measures="$build/test/benchmarks/CentralModelMeasures"
STEPS="${STEPS:-9000}"
export OMP_WAIT_POLICY=passive
mkdir -p "$work" && cd "$work"

bash "$here/extract_her2st_tiles.sh" "$c2l" "$data" .

if [ ! -f central.safetensors ]; then
  resume=(); [ -f central.safetensors.checkpoint ] && resume=(--resume)
  "$c2l" pretrain --recipe cpu --data tiles_training.h5 --out central.safetensors --steps "$STEPS" \
    --checkpoint-every 250 --snapshot-every "$((STEPS / 6))" --loss-log loss.tsv --seed 1 --half-precision \
    "${resume[@]}"
fi

measure() { # OUTPUT SOURCE [N] [STEPS] [SEED] [GRID] [SAMPLER]: CentralModelMeasures' arguments
  if [ ! -f "$1" ]; then
    "$measures" tiles_heldout.h5 "${@:2}" > "$1.partial"
    mv "$1.partial" "$1"
  fi
  cat "$1"
}
measure measures_central_ddim50_seed0.tsv central.safetensors 0 50 0 grid_central_ddim50_seed0.png
measure measures_central_dpmsolver20_seed0.tsv central.safetensors 0 20 0 grid_central_dpmsolver20_seed0.png \
  dpmsolver++
for seed in 1 2; do
  measure "measures_central_ddim50_seed$seed.tsv" central.safetensors 0 50 "$seed" "grid_central_ddim50_seed$seed.png"
done
measure measures_training.tsv tiles_training.h5 0 0 0 grid_training.png
measure measures_noise.tsv colour-noise 0 0 0 grid_noise.png
/usr/bin/python3 "$here/loss_curve_figures.py" . central loss.tsv
