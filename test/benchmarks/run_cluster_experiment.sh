#!/usr/bin/env bash
# Issue 14's adaptation measurement on real tissue (the paper's Table 1: real against synthetic per
# expression cluster):
#   bash test/benchmarks/run_cluster_experiment.sh [BUILD_DIR] [WORK_DIR] [CENTRAL_MODEL]
# 1. her2st-C2's spots cut at the central model's patch size (64 um, 32 px, Macenko to the tiles'
#    target), GENES genes, FRACTION of the spots for adaptation (the rest are only compared).
# 2. The central model (default: the committed one) adapted on the training spots.
# 3. Synthetic pairs for the training profiles (ratio RATIO) at guidance 0 (the null branch only:
#    unconditional samples paired with the profiles, the floor), 1, 2 and 3.
# 4. ClusterMeasures on each: k-means clusters of the training expression; per cluster, nuclei per
#    patch, nuclear area fraction, median nucleus, gradient energy and the classifier AUC of the real
#    spots' patches against the synthetic ones. A killed run continues where it stopped.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
work="${2:-$build/cluster-experiment}"
central="$(realpath "${3:-$here/../../models/central_her2st-C2_64um_32px.safetensors}")"
data="$(realpath "${SpatialTranscriptomics_SHARED_DATA_DIR:-$here/../../../shared/data}")"
c2l="$build/examples/c2l/c2l"
measures="$(realpath "$build/test/benchmarks/ClusterMeasures")"
GENES="${GENES:-100}"
FRACTION="${FRACTION:-0.25}"
ADAPT_STEPS="${ADAPT_STEPS:-2000}"
RATIO="${RATIO:-4}"
SAMPLE_STEPS="${SAMPLE_STEPS:-50}"
CLUSTERS="${CLUSTERS:-4}"
export OMP_WAIT_POLICY=passive
mkdir -p "$work" && cd "$work"

[ -f lab.h5 ] || "$c2l" extract --slide "$data/her2st-C2/images/C2_5714_HE_BT_C2.jpg" --spots "$data/her2st-C2" \
  --pixel-size 0.69 --patch-um 64 --patch-px 32 --normalize macenko --target "$data/stain-golden/target_image.png" \
  --genes "$GENES" --fraction "$FRACTION" --seed 1 --out lab.h5
resume=(); [ -f local.checkpoint ] && resume=(--resume)
[ -f local.safetensors ] || "$c2l" adapt --central "$central" --data lab.h5 --out local.safetensors \
  --steps "$ADAPT_STEPS" --batch 16 --grad-accum 1 --lr 1e-3 --checkpoint local.checkpoint --checkpoint-every 250 \
  "${resume[@]}"
for g in 0 1 2 3; do
  [ -f "synthetic-g$g.h5" ] || "$c2l" sample --model local.safetensors --central "$central" --expression lab.h5 \
    --ratio "$RATIO" --guidance "$g" --steps "$SAMPLE_STEPS" --seed 5 --out "synthetic-g$g.h5"
  [ -f "clusters-g$g.tsv" ] || "$measures" lab.h5 "synthetic-g$g.h5" "$CLUSTERS" > "clusters-g$g.tsv"
  cat "clusters-g$g.tsv"
done
