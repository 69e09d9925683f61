#!/usr/bin/python3
"""The C++ gene regressor against the same torchvision ResNet in PyTorch (Python), in one run.

Both sides run torchvision's ResNet (C++: itk::regression::ResNet, the same architecture and names)
on the same LibTorch (Debian's libtorch 1.13 and python3-torch), with the same thread count, batch
and patch size, random weights and uint8 patches [N, H, W, 3] (speed only).

Training: images/s of whole optimizer steps: draw a batch from a uint8 pool, random flips and
90-degree turns per image, / 255, the ImageNet normalisation, forward, MAE loss, backward and AdamW
(torch.optim.AdamW with its CPU default, the per-tensor loop; the C++ AdamW does the same
arithmetic). Prediction: patches/s of eval-mode batches under inference mode, from uint8 patches.
Each figure is the best of 3 rounds, C++ and Python alternating (each after its warm-up step and batch;
each C++ round is a process of its own that times two rounds and keeps the better, so that neither side
is measured only in its first steps).

The heap: C++ runs as c2l does, keeping freed memory for reuse (itk::ProcessMemory::RetainFreedMemoryForReuse), and
again with glibc's malloc as it starts (the "glibc" columns), in the same rounds. Python runs with
glibc's defaults, as a user runs it, or with --python-heap retain under the same policy as c2l
(mallopt through ctypes), which shows how much of a ratio the heap policy alone makes.

Usage: /usr/bin/python3 test/benchmarks/regressor_benchmark.py --build BUILD_DIR [--threads 2] [--quick]
       [--python-heap glibc|retain]
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

GENES = 250
# depth, patch side, batch, timed steps per round, prediction batches per round, rounds
CONFIGS = [(18, 64, 32, 4, 2, 3), (50, 64, 32, 3, 2, 3), (18, 224, 16, 3, 2, 3), (50, 224, 16, 3, 2, 3)]
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def find_program(build):
    for root, _, files in os.walk(build):
        if "RegressorBenchmark" in files:
            return os.path.join(root, "RegressorBenchmark")
    sys.exit("RegressorBenchmark not found under %s: build it (cmake --build %s --target RegressorBenchmark)"
             % (build, build))


def augment(images, generator):
    """Random horizontal flips then 90-degree turns of [B, C, H, W], as torchcore::AugmentDihedral."""
    flips = torch.randint(0, 2, (images.shape[0],), generator=generator)
    turns = torch.randint(0, 4, (images.shape[0],), generator=generator)
    out = []
    for i in range(images.shape[0]):
        image = images[i]
        if flips[i].item() == 1:
            image = image.flip(2)
        k = turns[i].item()
        if k:
            image = torch.rot90(image, k, (1, 2))
        out.append(image)
    return torch.stack(out)


class PythonSide:
    """The same work in PyTorch: one model and pool per configuration, timed one round at a time."""

    def __init__(self, depth, size, batch):
        torch.manual_seed(0)
        self.batch = batch
        self.generator = torch.Generator().manual_seed(0)
        self.pool = torch.randint(0, 256, (4 * batch, size, size, 3), generator=self.generator).to(torch.uint8)
        self.targets = torch.rand(4 * batch, GENES, generator=self.generator)
        self.model = getattr(torchvision.models, "resnet%d" % depth)(num_classes=GENES)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-4, weight_decay=1e-2)
        self.step()
        self.predict(self.pool[:batch])

    def step(self):
        self.model.train()
        indices = torch.randint(0, self.pool.shape[0], (self.batch,), generator=self.generator)
        images = augment(self.pool.index_select(0, indices).permute(0, 3, 1, 2), self.generator)
        x = (images.float().div(255) - MEAN) / STD
        loss = F.l1_loss(self.model(x), self.targets.index_select(0, indices))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, images):
        self.model.eval()
        with torch.inference_mode():
            out = []
            for start in range(0, images.shape[0], self.batch):
                x = images[start:start + self.batch].permute(0, 3, 1, 2).float().div(255)
                out.append(self.model((x - MEAN) / STD))
            return torch.cat(out)

    def round(self, steps, predict_batches):
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        train = steps * self.batch / (time.perf_counter() - start)
        patches = self.pool[: min(self.pool.shape[0], predict_batches * self.batch)]
        start = time.perf_counter()
        self.predict(patches)
        return {"train_images_per_s": train,
                "predict_patches_per_s": patches.shape[0] / (time.perf_counter() - start)}


def best(results):
    return {key: max(r[key] for r in results) for key in results[0]}


def retain_freed_memory():
    """What itk::ProcessMemory::RetainFreedMemoryForReuse does, for this Python process (glibc's mallopt(3))."""
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_max = -1, -4
    if libc.mallopt(m_mmap_max, 0) != 1 or libc.mallopt(m_trim_threshold, -1) != 1:
        sys.exit("mallopt refused the retained-heap policy")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the build folder holding RegressorBenchmark")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="only the 64x64 configurations")
    parser.add_argument("--python-heap", choices=["glibc", "retain"], default="glibc",
                        help="the Python side's heap policy (C++ is measured with both)")
    args = parser.parse_args()
    program = find_program(args.build)
    if args.python_heap == "retain":
        retain_freed_memory()
    torch.set_num_threads(args.threads)
    configs = [c for c in CONFIGS if not args.quick or c[1] == 64]
    print("threads %d, %d genes, LibTorch %s, torchvision %s, Python heap: %s" % (
        args.threads, GENES, torch.__version__, torchvision.__version__, args.python_heap))
    header = "%-9s %5s %5s | %-41s | %-41s" % ("model", "size", "batch",
                                                 "train images/s: C++ C++glibc Py ratio glibc",
                                                 "predict patches/s: C++ C++glibc Py ratio glibc")
    print(header)
    print("-" * len(header))
    rows = []
    for depth, size, batch, steps, predict_batches, rounds in configs:
        # Two rounds inside each C++ process, its best kept: a fresh process's first steps run while the
        # allocator still grows (page faults), whereas the Python model stays warm between its rounds.
        command = [program, str(depth), str(size), str(batch), str(GENES), str(steps), str(predict_batches),
                   "2", str(args.threads)]
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        python = PythonSide(depth, size, batch)
        rounds_of = {"cpp": [], "cpp_glibc": [], "python": []}
        # Alternating rounds, best of each: load from elsewhere on the machine hits all sides alike.
        for _ in range(rounds):
            for side, heap in (("cpp", "retain"), ("cpp_glibc", "glibc")):
                run = subprocess.run(command + [heap], check=True, capture_output=True, text=True, env=env)
                rounds_of[side].append(json.loads(run.stdout))
            rounds_of["python"].append(python.round(steps, predict_batches))
        cpp, glibc, py = (best(rounds_of[side]) for side in ("cpp", "cpp_glibc", "python"))
        row = dict(depth=depth, size=size, batch=batch, cpp=cpp, cpp_glibc=glibc, python=py,
                   python_heap=args.python_heap)
        cells = []
        for task, key in (("train", "train_images_per_s"), ("predict", "predict_patches_per_s")):
            row[task + "_ratio"] = cpp[key] / py[key]
            row[task + "_ratio_glibc"] = glibc[key] / py[key]
            cells.append("%8.1f %8.1f %8.1f %6.2f %5.2f" % (cpp[key], glibc[key], py[key], row[task + "_ratio"],
                                                           row[task + "_ratio_glibc"]))
        print("resnet%-3d %5d %5d | %-41s | %-41s" % (depth, size, batch, cells[0], cells[1]), flush=True)
        rows.append(row)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
