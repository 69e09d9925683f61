#!/usr/bin/env bash
# The central model's tiles of her2st-C2 (issue 14), unless DIR already has them:
#   bash test/benchmarks/extract_her2st_tiles.sh C2L DATA_DIR DIR
# 64 um at 32 px (2 um/px), Macenko-normalised to TIAToolbox's target, with a spatial hold-out
# (blocks of 4 x 4 tiles, every third held out): DIR/tiles_training.h5 and DIR/tiles_heldout.h5.
set -euo pipefail
c2l="$1"
data="$2"
dir="$3"
for part in training heldout; do
  [ -f "$dir/tiles_$part.h5" ] || "$c2l" extract --slide "$data/her2st-C2/images/C2_5714_HE_BT_C2.jpg" \
    --pixel-size 0.69 --tiles 100000 --patch-um 64 --patch-px 32 --normalize macenko \
    --target "$data/stain-golden/target_image.png" --holdout-blocks 4 --part "$part" --seed 0 \
    --out "$dir/tiles_$part.h5"
done
