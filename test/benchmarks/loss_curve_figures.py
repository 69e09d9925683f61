#!/usr/bin/python3
"""Turns a training run's loss log (c2l pretrain --loss-log: step, loss, lr, seconds) into a figure
spec for `c2l render-figures`: the loss against the step and against the training minutes, as the
mean of each window of WINDOW steps (one step's loss depends on the timesteps drawn, so single
steps scatter by a factor of ten), and the learning rate against the step.

Usage: /usr/bin/python3 loss_curve_figures.py OUT_DIR PREFIX LOSS_TSV [WINDOW]
Writes OUT_DIR/PREFIX-figures.json (figures PREFIX_loss_by_step.png, PREFIX_loss_by_minutes.png and
PREFIX_lr_by_step.png); render it with
  xvfb-run -a c2l render-figures --spec OUT_DIR/PREFIX-figures.json
"""
import csv
import json
import os
import sys


def read_log(path):
    steps, losses, rates, seconds = [], [], [], []
    with open(path, newline="") as table:
        for row in csv.reader(table, delimiter="\t"):
            if not row or not row[0].isdigit():
                continue  # a header line
            steps.append(int(row[0]))
            losses.append(float(row[1]))
            rates.append(float(row[2]))
            seconds.append(float(row[3]))
    if not steps:
        sys.exit(f"{path} holds no loss rows (step, loss, lr, seconds)")
    return steps, losses, rates, seconds


def window_means(steps, losses, seconds, window):
    """The mean loss of each full window of consecutive steps, at the window's last step and time."""
    points = []
    for start in range(0, len(steps) - window + 1, window):
        chunk = losses[start:start + window]
        points.append((steps[start + window - 1], seconds[start + window - 1] / 60.0, sum(chunk) / window))
    return points


def line_chart(output, title, x_label, y_label, label, x, y):
    return {"type": "line_chart", "output": output, "title": title, "x_label": x_label, "y_label": y_label,
            "series": [{"label": label, "x": x, "y": y}]}


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    folder, prefix, log = sys.argv[1], sys.argv[2], sys.argv[3]
    window = int(sys.argv[4]) if len(sys.argv) == 5 else 100
    steps, losses, rates, seconds = read_log(log)
    points = window_means(steps, losses, seconds, window)
    if not points:
        sys.exit(f"{log} has {len(steps)} steps, fewer than one window of {window}")
    label = f"mean of {window} steps"
    spec = [line_chart(f"{prefix}_loss_by_step.png", "Training loss", "optimizer step", "loss", label,
                       [p[0] for p in points], [p[2] for p in points]),
            line_chart(f"{prefix}_loss_by_minutes.png", "Training loss", "training minutes (as the run went)",
                       "loss", label, [p[1] for p in points], [p[2] for p in points]),
            line_chart(f"{prefix}_lr_by_step.png", "Learning rate", "optimizer step", "AdamW learning rate",
                       "learning rate", steps, rates)]
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{prefix}-figures.json"), "w") as out:
        json.dump(spec, out, indent=1)


if __name__ == "__main__":
    main()
