#!/bin/bash
# S2S-ST's training and inference time on one real section, the default CPU size against the
# authors' size (a few steps, extrapolated), in the same run on the same cores:
#   bash test/benchmarks/run_imputation_benchmark.sh BUILD_DIR [SECTION] [THREADS]
# SECTION is a her2st section name (default E1); one fold (upleft measured); prints seconds and the
# per-step ratio.
set -euo pipefail
build=${1:?build folder}
section=${2:-E1}
threads=${3:-2}
data=$(cd "$(dirname "$0")/../../.." && pwd)/shared/data/her2st-counts
pair="$data/counts/$section.tsv.gz,$data/spots/${section}_selection.tsv"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench="$build/test/benchmarks/ImputationSections"
# Each size twice, at two step counts: the difference is the cost of the steps, the rest is the
# fixed cost (preparation and inference of every gene).
paper="width=32 growth=32 blocks=8 layers=4 window=8"
"$bench" "$work/default200.tsv" upleft 200 0 "$threads" "$pair" > /dev/null
"$bench" "$work/default400.tsv" upleft 400 0 "$threads" "$pair" > /dev/null
"$bench" "$work/paper4.tsv" upleft 4 0 "$threads" $paper "$pair" > /dev/null
"$bench" "$work/paper8.tsv" upleft 8 0 "$threads" $paper "$pair" > /dev/null
python3 - "$work" <<'PY'
import csv, sys
def seconds(name):
    rows = [r for r in csv.DictReader(open(f"{sys.argv[1]}/{name}.tsv"), delimiter='\t') if r['method'] == 's2s-st']
    return sum(float(r['seconds']) for r in rows) / len(rows)
d200, d400, p4, p8 = (seconds(n) for n in ("default200", "default400", "paper4", "paper8"))
d_step = (d400 - d200) / 200
p_step = (p8 - p4) / 4
print(f"default size: {d400:.1f} s per fold at 400 steps = {d_step:.3f} s/step + {d400 - 400 * d_step:.1f} s fixed")
print(f"authors' size: {p_step:.2f} s/step + {p4 - 4 * p_step:.1f} s fixed; 400 steps extrapolated "
      f"{400 * p_step + p4 - 4 * p_step:.0f} s per fold")
print(f"per-step cost ratio, authors' / default (same run, same cores): {p_step / d_step:.1f}")
PY
