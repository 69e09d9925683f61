#!/usr/bin/env bash
# Issue 14's central model on real tissue (her2st-C2), resumable:
#   bash test/benchmarks/run_central_pretraining.sh [BUILD_DIR] [WORK_DIR]
# 1. Tiles of 64 um at 32 px (2 um/px), Macenko-normalised to TIAToolbox's target, with a spatial
#    hold-out (blocks of 4 x 4 tiles, every third held out): training and held-out sets.
# 2. The central model pretrained on the training tiles (checkpoints every 250 steps; run the script
#    again after a kill and it resumes), its training curve in loss.tsv.
# 3. The sample measures of its samples, of the training tiles and of colour noise against the
#    held-out tiles, and 8 x 8 sample grids.
# Sizes are set by the environment; the defaults are the run reported in Documentation/CentralModel.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(realpath "${1:-$here/../../build}")"
work="${2:-$build/central-pretraining}"
data="$(realpath "${SpatialTranscriptomics_SHARED_DATA_DIR:-$here/../../../shared/data}")"
c2l="$build/examples/c2l/c2l"
measures="$build/test/benchmarks/CentralModelMeasures"
STEPS="${STEPS:-5500}"
SAMPLES="${SAMPLES:-601}"
SAMPLE_STEPS="${SAMPLE_STEPS:-50}"
export OMP_WAIT_POLICY=passive
mkdir -p "$work" && cd "$work"

bash "$here/extract_her2st_tiles.sh" "$c2l" "$data" .

if [ ! -f central.safetensors ]; then
  resume=(); [ -f central.safetensors.checkpoint ] && resume=(--resume)
  "$c2l" pretrain --data tiles_training.h5 --out central.safetensors --base-channels 32 --scales 3 \
    --layers-per-block 1 --steps "$STEPS" --batch 32 --lr 5e-4 --warmup 0.02 --ema 0.999 --snr-gamma 5 \
    --prediction epsilon --checkpoint-every 250 --loss-log loss.tsv --seed 1 --half-precision "${resume[@]}"
fi

"$measures" tiles_heldout.h5 tiles_training.h5 0 0 0 grid_training.png | tee measures_training.tsv
"$measures" tiles_heldout.h5 colour-noise 0 0 0 grid_noise.png | tee measures_noise.tsv
"$measures" tiles_heldout.h5 central.safetensors "$SAMPLES" "$SAMPLE_STEPS" 0 grid_central.png | tee measures_central.tsv
