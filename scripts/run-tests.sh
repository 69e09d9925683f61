#!/usr/bin/env bash
# The README's test command (and CI's): build, then run every test; the Python tests too where a
# Python-wrapped ITK has already been built (scripts/build-wrapped-itk.sh: an hour, not CI's work).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/configure-and-build.sh
(cd build && ctest --output-on-failure --parallel "$(nproc)" --timeout 900)
wrapped_itk="${ITK_WRAP_ROOT:-/opt/itk-wrap}/build"
if [[ -f "$wrapped_itk/.wrapped-itk-complete" ]]; then
  bash scripts/run-python-tests.sh
else
  echo "run-tests: the Python tests were SKIPPED: no wrapped ITK at $wrapped_itk" \
    "(bash scripts/build-wrapped-itk.sh makes one, about an hour on 2 cores; then bash scripts/run-python-tests.sh)"
fi
