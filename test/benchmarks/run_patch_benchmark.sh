#!/usr/bin/env bash
# Patch extraction throughput (issue 3): a synthetic slide as a JPEG-tiled pyramidal TIFF (vips),
# read through OpenSlide, and her2st-C2's JPEG when ../shared/data is there.
#   bash test/benchmarks/run_patch_benchmark.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
work="${2:-$build/patch-benchmark}"
data="$here/../../../shared/data"
rm -rf "$work" && mkdir -p "$work"
"$build/examples/c2l/c2l" synth-slide --spots 300 --seed 1 --out "$work/slide"
vips tiffsave "$work/slide/image.tif" "$work/slide.tif" --tile --tile-width 256 --tile-height 256 --pyramid \
  --compression jpeg --Q 90
jpeg=()
if [ -f "$data/her2st-C2/images/C2_5714_HE_BT_C2.jpg" ]; then
  jpeg=(--jpeg "$data/her2st-C2/images/C2_5714_HE_BT_C2.jpg" --jpeg-spots "$data/her2st-C2")
fi
"$build/test/benchmarks/PatchExtractionBenchmark" --slide "$work/slide.tif" --spots "$work/slide/outs" "${jpeg[@]}" \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
