#!/usr/bin/env bash
# Issue 14's check of the C++ trainer over a longer run: the same run (initial weights, patches,
# batches, noise, timesteps) by the C++ trainer and by diffusers' training step transcribed in
# PyTorch, their losses compared step by step.
#   bash test/benchmarks/run_trainer_loss_curve.sh [BUILD_DIR] [WORK_DIR] [TILES.h5]
# TILES.h5: a patch dataset (c2l extract); default: the synthetic slide's spot patches, made here.
# Sizes come from the environment: STEPS (500), BATCH (8), LR (2e-4), WIDTH (32), SCALES (3), SEED (0),
# THREADS (1: the reference runs on one thread too, so the seconds per step compare).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(realpath "${1:-$here/../../build}")"
work="${2:-$build/trainer-loss-curve}"
c2l="$build/examples/c2l/c2l"
STEPS="${STEPS:-500}"
BATCH="${BATCH:-8}"
LR="${LR:-2e-4}"
WIDTH="${WIDTH:-32}"
SCALES="${SCALES:-3}"
SEED="${SEED:-0}"
THREADS="${THREADS:-1}"
export OMP_WAIT_POLICY=passive
mkdir -p "$work"
tiles="$(realpath "${3:-$work/slide.h5}")"
cd "$work"

if [ ! -f "$tiles" ]; then
  [ -d slide ] || "$c2l" synth-slide --spots 300 --seed 11 --out slide
  "$c2l" extract --slide slide/image.tif --spots slide/outs --patch-px 32 --patch-um 112 --out "$tiles"
fi
# The patches as the trainer holds them: uint8 [N, 3, H, W].
[ -f patches.safetensors ] || /usr/bin/python3 - "$tiles" patches.safetensors "$here/.." <<'PY'
import sys
import h5py
import torch
sys.path.insert(0, sys.argv[3])
from safetensors_writer import write_safetensors
with h5py.File(sys.argv[1], "r") as f:
    write_safetensors(sys.argv[2], {"patches": torch.from_numpy(f["img"][...]).permute(0, 3, 1, 2).contiguous()})
PY
# Fresh initial weights of the chosen U-Net: one step too small to move them (the EMA's first update
# copies the weights).
[ -f initial.safetensors ] || "$c2l" pretrain --data "$tiles" --out initial.safetensors --base-channels "$WIDTH" \
  --scales "$SCALES" --layers-per-block 1 --steps 1 --batch 2 --lr 1e-12 --seed "$SEED" --threads 1
[ -f cpp.safetensors ] || "$build/test/diffusion/TrainerLossCurve" initial.safetensors patches.safetensors . \
  "$STEPS" "$BATCH" "$LR" "$SEED" "$THREADS"
[ -f reference.safetensors ] || /usr/bin/python3 "$here/../diffusion/train_step_reference.py" initial.safetensors \
  batches.safetensors reference.safetensors
/usr/bin/python3 "$here/compare_loss_curves.py" cpp.safetensors reference.safetensors curve.tsv | tee comparison.txt
