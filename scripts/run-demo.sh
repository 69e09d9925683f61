#!/usr/bin/env bash
# The README's main command: build, then run the module's workflow on synthetic input it generates.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure-and-build.sh
# The demo's folder lives in the build tree and belongs to the demo: re-running replaces its files.
./build/examples/c2l/c2l demo --out build/demo --force "$@"
