#!/usr/bin/env bash
# Builds the libFuzzer harnesses (test/fuzz, with clang, ASan and UBSan) in ./build-fuzz and runs
# each for SECONDS (default 60) on its seed corpus, kept in build-fuzz/corpus/<harness> so that a
# later run continues from what an earlier one found. Crashes are written to build-fuzz/crashes/.
# Usage: bash scripts/run-fuzzers.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
bash scripts/install-debian-packages.sh
if ! command -v clang++ > /dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run-fuzzers: clang is missing; install Debian's clang (as root: apt-get install clang)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang
fi
cmake -S test/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz --parallel "$(nproc)"
mkdir -p build-fuzz/corpus/safetensors_fuzzer build-fuzz/crashes
/usr/bin/python3 test/fuzz/make_safetensors_seeds.py build-fuzz/corpus/safetensors_fuzzer
for harness in safetensors_fuzzer; do
  echo "run-fuzzers: $harness for $seconds s"
  "build-fuzz/$harness" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix=build-fuzz/crashes/ "build-fuzz/corpus/$harness" 2>&1 | grep -E "stat::|DONE|ERROR|SUMMARY"
done
