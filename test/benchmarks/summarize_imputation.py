#!/usr/bin/env python3
"""Per-section tables of ImputationSections' TSVs (Documentation/Imputation.md).

    python3 summarize_imputation.py RESULTS.tsv [RESULTS.tsv ...]

For each protocol (the four stride-2 phases averaged; the random 25 % split) and section: each
method's mean Pearson over the 50 most variable genes, over all 250 genes, MAE (all genes) and SSIM,
then whether S2S-ST passes the issue's bars: its Pearson over the 50 most variable genes above the
best spatial baseline's, and its MAE not above the median baseline's.
"""
import csv
import sys
from collections import defaultdict

rows = []
for path in sys.argv[1:]:
    rows += list(csv.DictReader(open(path), delimiter="\t"))

SPATIAL = ["knn", "gaussian", "bilinear", "cubic-bspline"]
ORDER = ["mean", "median"] + SPATIAL + ["s2s-st"]


def protocol(split):
    return "random 25 %" if split.startswith("random") else "stride-2 phase (4 folds)"


table = defaultdict(lambda: defaultdict(list))
for r in rows:
    table[(protocol(r["split"]), r["section"])][r["method"]].append(r)


def mean(values):
    values = [v for v in values if v == v]
    return sum(values) / len(values) if values else float("nan")


def cell(rs, key):
    return mean([float(r[key]) for r in rs])


for proto in ["stride-2 phase (4 folds)", "random 25 %"]:
    sections = sorted(s for p, s in table if p == proto)
    if not sections:
        continue
    print(f"\n### {proto}\n")
    print("| section | method | Pearson, 50 most variable | Pearson, 250 | MAE | SSIM | seconds |")
    print("|---|---|---|---|---|---|---|")
    passes = []
    for section in sections:
        methods = table[(proto, section)]
        for m in ORDER:
            if m in methods:
                rs = methods[m]
                print(f"| {section} | {m} | {cell(rs, 'mv_pearson'):.3f} | {cell(rs, 'pearson'):.3f} | "
                      f"{cell(rs, 'mae'):.4f} | {cell(rs, 'ssim'):.3f} | {cell(rs, 'seconds'):.1f} |")
        if "s2s-st" in methods:
            best = max((cell(methods[m], "mv_pearson"), m) for m in SPATIAL if m in methods)
            s2s = cell(methods["s2s-st"], "mv_pearson")
            mae_ok = cell(methods["s2s-st"], "mae") <= cell(methods["median"], "mae")
            passes.append((section, s2s > best[0], best, s2s, mae_ok))
    print()
    for section, pearson_ok, best, s2s, mae_ok in passes:
        print(f"- {section}: S2S-ST Pearson (50 most variable) {s2s:.3f} vs best spatial baseline "
              f"{best[1]} {best[0]:.3f}: {'passes' if pearson_ok else 'misses'}; MAE not above the median "
              f"baseline's: {'passes' if mae_ok else 'misses'}")
