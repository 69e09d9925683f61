#!/usr/bin/env bash
# What local adaptation costs against full fine-tuning of the same U-Net, in one run:
#   bash test/benchmarks/run_adaptation_cost.sh [BUILD_DIR] [EXPERIMENT_DIR] [STEPS]
# EXPERIMENT_DIR is a finished run_adaptation_experiment.sh folder (central.safetensors, lab.h5).
# Full fine-tuning trains every U-Net parameter (c2l pretrain on the lab's patches: the same step as
# fine-tuning, whatever the starting weights); adaptation trains the FiLM adapter only. Same batch,
# same threads; wall time per step and peak resident memory of each process (/usr/bin/time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
work="${2:-$build/adaptation-experiment}"
steps="${3:-100}"
c2l="$build/examples/c2l/c2l"
export OMP_WAIT_POLICY=passive
cd "$work"
config=$(/usr/bin/python3 -c '
import json, struct
with open("central.safetensors", "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    c = json.loads(json.loads(f.read(n))["__metadata__"]["unet_config"])
print(c["block_out_channels"][0], len(c["block_out_channels"]), c["layers_per_block"])')
read -r base scales layers <<< "$config"
/usr/bin/time -f "%e %M" -o full.time "$c2l" pretrain --data lab.h5 --out cost-full.safetensors --force \
  --base-channels "$base" --scales "$scales" --layers-per-block "$layers" --steps "$steps" --batch 16 --threads 2 \
  > full.log
/usr/bin/time -f "%e %M" -o adapt.time "$c2l" adapt --central central.safetensors --data lab.h5 --force \
  --out cost-adapter.safetensors --steps "$steps" --batch 16 --grad-accum 1 --threads 2 > adapt.log
read -r full_s full_kib < full.time
read -r adapt_s adapt_kib < adapt.time
adapter_parameters=$(sed -n 's/.* \([0-9]*\) trained adapter parameters (the frozen U-Net has \([0-9]*\)).*/\1 \2/p' adapt.log)
read -r trained unet <<< "$adapter_parameters"
/usr/bin/python3 - "$steps" "$unet" "$trained" "$full_s" "$full_kib" "$adapt_s" "$adapt_kib" <<'TABLE' | tee adaptation-cost.md
import sys
steps, unet, trained = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
full_s, full_kib, adapt_s, adapt_kib = (float(v) for v in sys.argv[4:8])
print("| | trained parameters | s per step (%d steps, batch 16) | peak RSS (MiB) |" % steps)
print("|---|---|---|---|")
print("| full fine-tuning | %d | %.3f | %.0f |" % (unet, full_s / steps, full_kib / 1024))
print("| local adaptation | %d (%.1f%%) | %.3f | %.0f |" % (trained, 100.0 * trained / unet, adapt_s / steps, adapt_kib / 1024))
TABLE
