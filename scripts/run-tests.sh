#!/usr/bin/env bash
# The README's test command (and CI's): build, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure-and-build.sh
cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
