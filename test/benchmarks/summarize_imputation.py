#!/usr/bin/env python3
"""Per-section tables of ImputationSections' TSVs (Documentation/Imputation.md).

    python3 summarize_imputation.py RESULTS.tsv [RESULTS.tsv ...]

A method's rows may be renamed in a TSV (e.g. "s2s-st+photos" for a run with co-learning) to show
variants side by side; a (section, split, method) present in two files is averaged.

For each protocol (the four stride-2 phases averaged; the random 25 % split): tables of section x
method for the mean Pearson over the 50 most variable genes, over the 250 genes, the MAE and SSIM,
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
ORDER += sorted({r["method"] for r in rows} - set(ORDER))  # e.g. variants renamed by hand


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
    methods_present = [m for m in ORDER if any(m in table[(proto, s)] for s in sections)]
    for key, title, digits in [("mv_pearson", "Pearson over the 50 most variable genes", 3),
                               ("pearson", "Pearson over the 250 genes", 3),
                               ("mae", "MAE (250 genes)", 4),
                               ("ssim", "SSIM (250 genes)", 3)]:
        if key in ("mv_pearson", "pearson"):
            shown = [m for m in methods_present if m not in ("mean", "median")]  # constant: no correlation
        else:
            shown = methods_present
        print(f"\n{proto}, {title}:\n")
        print("| section | " + " | ".join(shown) + " |")
        print("|---" * (len(shown) + 1) + "|")
        for section in sections:
            methods = table[(proto, section)]
            cells = [f"{cell(methods[m], key):.{digits}f}" if m in methods else "" for m in shown]
            print(f"| {section} | " + " | ".join(cells) + " |")
    print()
    for section in sections:
        methods = table[(proto, section)]
        if "s2s-st" not in methods:
            continue
        best = max((cell(methods[m], "mv_pearson"), m) for m in SPATIAL if m in methods)
        s2s = cell(methods["s2s-st"], "mv_pearson")
        mae_ok = cell(methods["s2s-st"], "mae") <= cell(methods["median"], "mae")
        print(f"- {proto}, {section}: S2S-ST {s2s:.3f} vs {best[1]} {best[0]:.3f}: "
              f"{'passes' if s2s > best[0] else 'misses'}; MAE not above the median's: "
              f"{'passes' if mae_ok else 'misses'}")
