#!/usr/bin/env bash
# The Python user's route, and its tests: a Python-wrapped ITK built from Debian's own ITK source
# (scripts/build-wrapped-itk.sh: about an hour once, then cached at ITK_WRAP_ROOT, default
# /opt/itk-wrap), this module configured and built against it with its wrapping (build-python/),
# then the Python tests (ctest label "Python"). Idempotent: each part that is done is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${ITK_WRAP_ROOT:-/opt/itk-wrap}
bash scripts/install-debian-packages.sh
bash scripts/build-wrapped-itk.sh
build=${SpatialTranscriptomics_PYTHON_BUILD:-build-python}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DITK_DIR="$root/build" -DITK_USE_KWSTYLE=OFF -DITK_USE_CLANG_FORMAT=OFF \
  -DITK_USE_SYSTEM_SWIG=ON -DITK_USE_SYSTEM_CASTXML=ON \
  -DBUILD_TESTING=ON -DSpatialTranscriptomics_BUILD_CXX_TESTS=OFF -DSpatialTranscriptomics_BUILD_EXAMPLES=ON \
  -DPython3_EXECUTABLE=/usr/bin/python3
ninja -C "$build" -j "$(nproc)"
cd "$build"
ctest -L Python --output-on-failure
