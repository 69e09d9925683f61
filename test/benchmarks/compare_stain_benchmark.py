#!/usr/bin/env python3
"""Compare the C++ stain-normalisation Google Benchmark results with the numpy reference.

Usage:
  compare_stain_benchmark.py --gbench GBENCH.json --numpy NUMPY.json [--markdown OUT.md]

GBENCH.json: output of --benchmark_format=json or --benchmark_out=... from the
C++ benchmarks BM_StainEstimateApply/<N> and BM_StainApplyOnly/<N>, which
report the user counter Mpx_per_s.  NUMPY.json: output of macenko_numpy.py.
"""
import argparse
import datetime
import json
import re
import statistics
import sys

KINDS = {"BM_StainEstimateApply": "estimate_apply", "BM_StainApplyOnly": "apply"}


def fail(msg):
    sys.exit("error: " + msg)


def load_json(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        fail("%s file not found: %s" % (what, path))
    except (OSError, ValueError) as e:
        fail("cannot read %s file %s: %s" % (what, path, e))


def parse_gbench(data, path):
    """Return ({kind: {N: Mpx/s}}, context) from a Google Benchmark JSON document."""
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        fail("%s is not Google Benchmark JSON (no 'benchmarks' list)" % path)
    benches = [b for b in data["benchmarks"] if isinstance(b, dict)]
    iters = [b for b in benches if b.get("run_type", "iteration") != "aggregate"]
    if not iters:  # only aggregates (e.g. --benchmark_report_aggregates_only): prefer the median
        aggs = [b for b in benches if b.get("aggregate_name") == "median"]
        iters = aggs or [b for b in benches if b.get("aggregate_name", "mean") == "mean"]
    values = {}
    for b in iters:
        name = b.get("run_name") or b.get("name", "")
        m = re.match(r"([^/]+)/\D*(\d+)", name)
        if not m or m.group(1) not in KINDS:
            continue
        if b.get("error_occurred"):
            print("warning: skipping failed benchmark %s: %s" % (b.get("name"), b.get("error_message", "")),
                  file=sys.stderr)
            continue
        if "Mpx_per_s" not in b:
            fail("%s: benchmark %r has no Mpx_per_s counter" % (path, b.get("name")))
        try:
            v = float(b["Mpx_per_s"])
        except (TypeError, ValueError):
            fail("%s: benchmark %r has a non-numeric Mpx_per_s" % (path, b.get("name")))
        values.setdefault((KINDS[m.group(1)], int(m.group(2))), []).append(v)
    if not values:
        fail("%s has no BM_StainEstimateApply/<N> or BM_StainApplyOnly/<N> entries" % path)
    res = {k: {} for k in KINDS.values()}
    for (kind, n), vs in values.items():
        res[kind][n] = statistics.median(vs)  # repetitions of the same benchmark
    return res, data.get("context", {}) or {}


def parse_numpy(data, path):
    """Return {kind: {N: Mpx/s}} from macenko_numpy.py JSON."""
    if not isinstance(data, dict) or not isinstance(data.get("tiles"), dict):
        fail("%s is not macenko_numpy.py JSON (no 'tiles' object)" % path)
    res = {k: {} for k in KINDS.values()}
    for n, entry in data["tiles"].items():
        try:
            for kind in KINDS.values():
                res[kind][int(n)] = float(entry[kind + "_mpx_s"])
        except (KeyError, TypeError, ValueError):
            fail("%s: malformed entry for tile %r" % (path, n))
    return res


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gbench", required=True, help="Google Benchmark JSON output")
    ap.add_argument("--numpy", required=True, help="macenko_numpy.py JSON output")
    ap.add_argument("--markdown", help="also write the table to this Markdown file")
    args = ap.parse_args(argv)

    cpp, ctx = parse_gbench(load_json(args.gbench, "gbench"), args.gbench)
    npj = load_json(args.numpy, "numpy")
    ref = parse_numpy(npj, args.numpy)

    header = ["size", "C++ estimate+apply Mpx/s", "numpy estimate+apply Mpx/s", "ratio",
              "C++ apply-only Mpx/s", "numpy apply-only Mpx/s", "ratio"]
    rows = []
    sizes = sorted(set().union(*cpp.values(), *ref.values()))
    for n in sizes:
        row = ["%dx%d" % (n, n)]
        for kind in ("estimate_apply", "apply"):
            c, p = cpp[kind].get(n), ref[kind].get(n)
            row += [fmt(c), fmt(p), fmt(ratio(c, p), "%.1fx")]
        rows.append(row)

    info = [
        ("date", datetime.datetime.now().isoformat(timespec="seconds")),
        ("gbench date", ctx.get("date", "-")),
        ("num_cpus", ctx.get("num_cpus", "-")),
        ("mhz_per_cpu", ctx.get("mhz_per_cpu", "-")),
        ("library_build_type", ctx.get("library_build_type", "-")),
        ("numpy_version", npj.get("numpy_version", "-")),
    ]

    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for k, v in info:
        print("%-19s %s" % (k + ":", v))
    print()
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)))

    if args.markdown:
        lines = ["- %s: %s" % (k, v) for k, v in info] + [""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        try:
            with open(args.markdown, "w") as f:
                f.write("\n".join(lines) + "\n")
        except OSError as e:
            fail("cannot write %s: %s" % (args.markdown, e))


if __name__ == "__main__":
    main()
