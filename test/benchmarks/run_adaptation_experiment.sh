#!/usr/bin/env bash
# Issue 5's measurement on the synthetic slide, whose gene programs drive its morphology:
#   bash test/benchmarks/run_adaptation_experiment.sh [BUILD_DIR] [WORK_DIR]
# 1. A central corpus (a synthetic slide of seed 11, 1200 spots, expression unused) and a lab's
#    slide (seed 12, 300 spots, 25% of them for adaptation), both cut to PX-pixel patches of PATCH_UM.
# 2. The central model pretrained on the corpus (a fresh U-Net, or CENTRAL_INIT trained further; its
#    curve in central-loss.tsv, snapshots every quarter) and measured against the lab's patches (a
#    slide it never saw); the local model adapted on the lab's training spots.
# 3. Synthetic pairs for the training profiles (ratio 4) at guidance 0, 1, 2 and 3. Guidance 0 keeps
#    only the null branch: unconditional samples paired with the profiles, the floor.
# 4. MorphologyReadout on each: per gene program, the mean correlation between the conditioning genes
#    and the morphology read back (mean hematoxylin for nuclear programs, mean eosin for stroma); real
#    patches give the ceiling. The synthetic patches of guidance 3 are measured against the lab's too.
# Sizes are set by the environment (defaults take about an hour on 2 cores).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(realpath "${1:-$here/../../build}")"
work="${2:-$build/adaptation-experiment}"
c2l="$build/examples/c2l/c2l"
readout="$build/test/benchmarks/MorphologyReadout"
measures="$build/test/benchmarks/CentralModelMeasures"
PX="${PX:-32}"
PATCH_UM="${PATCH_UM:-112}"
CORPUS_SPOTS="${CORPUS_SPOTS:-1200}"
CENTRAL_STEPS="${CENTRAL_STEPS:-3000}"
CENTRAL_BATCH="${CENTRAL_BATCH:-16}"
CENTRAL_LR="${CENTRAL_LR:-2e-4}"
ADAPT_STEPS="${ADAPT_STEPS:-1500}"
SAMPLE_STEPS="${SAMPLE_STEPS:-50}"
export OMP_WAIT_POLICY=passive
start=(--base-channels 32 --scales 3 --layers-per-block 1)
[ -n "${CENTRAL_INIT:-}" ] && start=(--init "$(realpath "$CENTRAL_INIT")")
mkdir -p "$work" && cd "$work"

[ -d corpus ] || "$c2l" synth-slide --spots "$CORPUS_SPOTS" --seed 11 --out corpus
[ -d lab ] || "$c2l" synth-slide --spots 300 --seed 12 --out lab
[ -f corpus.h5 ] || "$c2l" extract --slide corpus/image.tif --spots corpus/outs --patch-px "$PX" --patch-um "$PATCH_UM" --out corpus.h5
[ -f lab.h5 ] || "$c2l" extract --slide lab/image.tif --spots lab/outs --patch-px "$PX" --patch-um "$PATCH_UM" --genes 60 \
  --fraction 0.25 --seed 1 --out lab.h5
resume=(); [ -f central.safetensors.checkpoint ] && resume=(--resume)   # a killed run continues
# A fresh U-Net, or CENTRAL_INIT (a central model of the patches' pixel size) trained further.
[ -f central.safetensors ] || "$c2l" pretrain --data corpus.h5 --out central.safetensors "${start[@]}" \
  --steps "$CENTRAL_STEPS" --batch "$CENTRAL_BATCH" --lr "$CENTRAL_LR" --warmup "${CENTRAL_WARMUP:-0.03}" \
  --checkpoint-every 250 --snapshot-every "$((CENTRAL_STEPS / 4))" --loss-log central-loss.tsv --seed 1 "${resume[@]}"
[ -f measures_central.tsv ] || "$measures" lab.h5 central.safetensors 300 "$SAMPLE_STEPS" 0 grid_central.png > measures_central.tsv
resume=(); [ -f local.checkpoint ] && resume=(--resume)
[ -f local.safetensors ] || "$c2l" adapt --central central.safetensors --data lab.h5 --out local.safetensors \
  --steps "$ADAPT_STEPS" --batch 16 --grad-accum 1 --lr 1e-3 --checkpoint local.checkpoint --checkpoint-every 250 \
  "${resume[@]}"
for g in 0 1 2 3; do
  [ -f "synthetic-g$g.h5" ] || "$c2l" sample --model local.safetensors --expression lab.h5 --ratio 4 --guidance "$g" \
    --steps "$SAMPLE_STEPS" --seed 5 --out "synthetic-g$g.h5"
done

{
  echo "| patches | n | nuclear_density | nuclear_size | immune | stroma | unrelated (abs) |"
  echo "|---|---|---|---|---|---|---|"
  for f in lab.h5 synthetic-g0.h5 synthetic-g1.h5 synthetic-g2.h5 synthetic-g3.h5; do
    "$readout" "$f" lab/ground_truth.json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin); p = d["programs"]
print("| %s | %d | %.2f | %.2f | %.2f | %.2f | %.2f |" % (sys.argv[1], d["patches"], p["nuclear_density"],
      p["nuclear_size"], p["immune"], p["stroma"], p["none"]))' "$f"
  done
} | tee adaptation-experiment.md
[ -f measures_synthetic-g3.tsv ] || "$measures" lab.h5 synthetic-g3.h5 0 0 0 grid_synthetic-g3.png > measures_synthetic-g3.tsv
cat measures_central.tsv measures_synthetic-g3.tsv
