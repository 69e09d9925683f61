#!/usr/bin/python3
"""Compares the C++ trainer's run (TrainerLossCurve's cpp.safetensors) with the same run of the PyTorch
reference (train_step_reference.py's output): the loss at every step, the mean loss over windows of
steps, the final weights and EMA, and the seconds per step.

Usage: /usr/bin/python3 compare_loss_curves.py CPP.safetensors REFERENCE.safetensors CURVE.tsv [WINDOW]
Writes CURVE.tsv (step, C++ loss, reference loss) and prints the comparison.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import read_safetensors  # noqa: E402


def relative_distance(ours, theirs, prefix):
    """||ours - theirs|| / ||theirs|| over every tensor named PREFIX*, and the largest absolute difference."""
    difference, norm, largest = 0.0, 0.0, 0.0
    for name, value in theirs.items():
        if name.startswith(prefix):
            delta = ours[name].double() - value.double()
            difference += float((delta ** 2).sum())
            norm += float((value.double() ** 2).sum())
            largest = max(largest, float(delta.abs().max()))
    return (difference / norm) ** 0.5, largest


def main(cpp_path, reference_path, curve_path, window):
    ours, _ = read_safetensors(cpp_path)
    theirs, _ = read_safetensors(reference_path)
    a, b = ours["loss"], theirs["loss"]
    if a.shape != b.shape:
        sys.exit(f"the runs have {a.numel()} and {b.numel()} steps")
    with open(curve_path, "w") as out:
        out.write("step\tcpp_loss\treference_loss\n")
        for step, (x, y) in enumerate(zip(a.tolist(), b.tolist()), start=1):
            out.write(f"{step}\t{x:.9g}\t{y:.9g}\n")
    relative = (a - b).abs() / b.abs()
    print(f"steps\t{a.numel()}")
    for bound in (1e-5, 1e-4, 1e-3, 1e-2):
        above = (relative > bound).nonzero()
        first = int(above[0]) + 1 if above.numel() else "never"
        print(f"first step whose losses differ by more than {bound:g} (relative)\t{first}")
    print("window\tC++ mean loss\treference mean loss\tratio\tmedian relative difference per step")
    for start in range(0, a.numel(), window):
        x, y, r = a[start:start + window], b[start:start + window], relative[start:start + window]
        print(f"{start + 1}-{start + x.numel()}\t{float(x.mean()):.6f}\t{float(y.mean()):.6f}\t"
              f"{float(x.mean() / y.mean()):.5f}\t{float(r.median()):.2e}")
    for prefix in ("model.", "ema."):
        distance, largest = relative_distance(ours, theirs, prefix)
        print(f"final {prefix[:-1]} weights: relative distance {distance:.2e}, largest difference {largest:.2e}")
    ours_seconds, their_seconds = float(ours["seconds"].median()), float(theirs["seconds"].median())
    print(f"median seconds per step\tC++ {ours_seconds:.4f}\treference {their_seconds:.4f}\t"
          f"ratio reference / C++ {their_seconds / ours_seconds:.2f}")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 50)
