#!/usr/bin/python3
"""Turns recipe-study tables (run_recipe_study.sh's recipe-study.tsv) into a figure spec for
`c2l render-figures`: classifier AUC, nuclei per patch and gradient energy against real, each
against the training minutes at the setting's seconds per step measured alone.

Usage: /usr/bin/python3 recipe_study_figures.py OUT_DIR TSV[=SUFFIX] [TSV[=SUFFIX] ...]
SUFFIX is added to the labels of that table's settings (e.g. "=, 2,500-step run"). Writes
OUT_DIR/recipe-study-figures.json; render it with
  xvfb-run -a c2l render-figures --spec OUT_DIR/recipe-study-figures.json
"""
import csv
import json
import os
import sys


def read_series(argument):
    path, _, suffix = argument.partition("=")
    series = {}
    with open(path, newline="") as table:
        for row in csv.DictReader(table, delimiter="\t"):
            points = series.setdefault(row["setting"] + suffix, [])
            points.append((float(row["seconds_alone"]) / 60.0, float(row["classifier_auc"]),
                           float(row["nuclei_pct"]), float(row["gradient_pct"])))
    return series


def chart(output, title, y_label, series, column):
    return {"type": "line_chart", "output": output, "title": title,
            "x_label": "training minutes (2 CPU cores, the setting's step time measured alone)",
            "y_label": y_label,
            "series": [{"label": label, "x": [p[0] for p in sorted(points)],
                        "y": [p[column] for p in sorted(points)]} for label, points in series.items()]}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    folder = sys.argv[1]
    series = {}
    for argument in sys.argv[2:]:
        series.update(read_series(argument))
    spec = [chart("recipe_auc_by_minutes.png", "Classifier two-sample AUC (bar: at most 0.8)",
                  "AUC against held-out tiles", series, 1),
            chart("recipe_nuclei_by_minutes.png", "Nuclei per patch against real (bar: within 25 %)",
                  "difference (%)", series, 2),
            chart("recipe_gradient_by_minutes.png", "Gradient energy against real (bar: within 20 %)",
                  "difference (%)", series, 3)]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "recipe-study-figures.json"), "w") as out:
        json.dump(spec, out, indent=1)


if __name__ == "__main__":
    main()
