#!/usr/bin/env bash
# Installs the Debian packages (once), then configures and builds the module in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-packages.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
