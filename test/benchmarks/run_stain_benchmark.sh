#!/usr/bin/env bash
# StainNormalizeFilter against the same Macenko algorithm in numpy, on the same images, in one run:
#   bash test/benchmarks/run_stain_benchmark.sh [BUILD_DIR] [OUT_DIR]
# Prints the table and writes OUT_DIR/stain-benchmark.md (default OUT_DIR: BUILD_DIR/benchmarks).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
out="${2:-$build/benchmarks}"
mkdir -p "$out/images"
bench="$build/test/benchmarks/StainNormalizeBenchmark"
[ -x "$bench" ] || { echo "error: $bench not found; build first (scripts/configure-and-build.sh)" >&2; exit 1; }

"$bench" --write-images "$out/images"
"$bench" --benchmark_repetitions=3 --benchmark_out="$out/gbench.json" --benchmark_out_format=json
/usr/bin/python3 "$here/macenko_numpy.py" --images "$out/images" --json "$out/numpy.json" --repeats 3
/usr/bin/python3 "$here/compare_stain_benchmark.py" --gbench "$out/gbench.json" --numpy "$out/numpy.json" \
  --markdown "$out/stain-benchmark.md"
