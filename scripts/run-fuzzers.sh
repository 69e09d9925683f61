#!/usr/bin/env bash
# Builds the libFuzzer harnesses (test/fuzz, with clang, ASan and UBSan) in ./build-fuzz and runs
# each for SECONDS (default 60) on its seed corpus, kept in build-fuzz/corpus/<harness> so that a
# later run continues from what an earlier one found. Crashes are written to build-fuzz/crashes/.
# Usage: bash scripts/run-fuzzers.sh [SECONDS [HARNESS ...]]   (default: every harness, one after another)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  harnesses=(safetensors_fuzzer model_config_fuzzer json_inputs_fuzzer count_table_fuzzer visium_fuzzer hdf5_fuzzer)
fi
bash scripts/install-debian-packages.sh
if ! command -v clang++ > /dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run-fuzzers: clang is missing; install Debian's clang (as root: apt-get install clang)" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang
fi
cmake -S test/fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build-fuzz --parallel "$(nproc)"
mkdir -p build-fuzz/corpus/safetensors_fuzzer build-fuzz/crashes
/usr/bin/python3 test/fuzz/make_safetensors_seeds.py build-fuzz/corpus/safetensors_fuzzer
/usr/bin/python3 test/fuzz/make_reader_seeds.py build-fuzz/corpus
export LSAN_OPTIONS="suppressions=$PWD/test/fuzz/leak_suppressions.txt"
for harness in "${harnesses[@]}"; do
  # First the inputs that once crashed it (test/fuzz/regressions/<harness>/): each must now pass.
  if compgen -G "test/fuzz/regressions/$harness/*" > /dev/null; then
    "build-fuzz/$harness" test/fuzz/regressions/"$harness"/* > "build-fuzz/$harness-regressions.log" 2>&1 ||
      { echo "run-fuzzers: $harness fails on a committed regression input (build-fuzz/$harness-regressions.log)" >&2; exit 1; }
  fi
  echo "run-fuzzers: $harness for $seconds s"
  # Fork mode, going on after a crash, an out-of-memory or a 10 s timeout (no input of these sizes
  # takes that long): every such input of the run is kept, not only the first (the HDF5 harness
  # meets crashes and hangs inside Debian's libhdf5 that the module cannot prevent).
  "build-fuzz/$harness" -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 -timeout=10 -max_total_time="$seconds" \
    -print_final_stats=1 \
    -artifact_prefix="build-fuzz/crashes/$harness-" "build-fuzz/corpus/$harness" 2>&1 | grep -E "oom/timeout/crash|INFO: exiting|SUMMARY" | tail -n 3
done
