#!/usr/bin/env bash
# Builds the module and its tests with AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-sanitized, then runs the whole suite there. Any report fails its test: ASan aborts on its
# first error, UBSan too (-fno-sanitize-recover), and LeakSanitizer reports leaks at exit (none is
# suppressed).
# Not part of CI: on 2 cores the build and the run take well over an hour together, past its budget.
# Usage: bash scripts/run-sanitized-tests.sh [CTEST ARGUMENTS ...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-packages.sh
# Set before building too: the build runs each GoogleTest driver to list its tests.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cmake -S . -B build-sanitized -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSpatialTranscriptomics_USE_SANITIZERS=ON
cmake --build build-sanitized --parallel "$(nproc)"
cd build-sanitized
ctest --output-on-failure --parallel "$(nproc)" --timeout 3600 "$@"
