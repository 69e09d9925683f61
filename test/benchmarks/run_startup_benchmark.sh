#!/usr/bin/env bash
# Start-up of the c2l commands that need no model (issue 15): c2l links no LibTorch and hands the
# model commands to c2l-models. The reference, measured in the same run, is the same c2l with
# LibTorch preloaded (LD_PRELOAD): what these commands paid while c2l linked LibTorch.
#   bash test/benchmarks/run_startup_benchmark.sh [BUILD_DIR] [WORK_DIR] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
work="${2:-$build/startup-benchmark}"
runs="${3:-7}"
c2l="$build/examples/c2l/c2l"
torch="$(ldconfig -p | awk '/libtorch_cpu\.so / && !found { print $NF; found = 1 }')"
[ -n "$torch" ] || { echo "libtorch_cpu.so not found (ldconfig -p)"; exit 1; }
rm -rf "$work" && mkdir -p "$work"
"$c2l" synth-slide --spots 300 --seed 1 --out "$work/slide" > /dev/null
"$build/test/benchmarks/ConvertToMetaImage" "$work/slide/image.tif" "$work/slide.mha"

# The median wall time of $runs runs of a command, in seconds.
median() {
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

normalize=("$c2l" normalize --target "$work/slide.mha" --force "$work/slide.mha" "$work/out.mha")
printf 'image: %s (%s)\n' "$work/slide.mha" "$(head -c 400 "$work/slide.mha" | grep -a DimSize)"
printf '%-34s %10s %22s %8s\n' "command" "c2l (s)" "LibTorch preloaded (s)" "ratio"
for name in help normalize; do
  if [ "$name" = help ]; then cmd=("$c2l" --help); else cmd=("${normalize[@]}"); fi
  alone=$(median "${cmd[@]}")
  loaded=$(median env LD_PRELOAD="$torch" "${cmd[@]}")
  printf '%-34s %10.3f %22.3f %8.2f\n' "c2l $name" "$alone" "$loaded" "$(awk -v a="$alone" -v l="$loaded" 'BEGIN { print l / a }')"
done
