#!/usr/bin/python3
"""The C++ diffusion engine against the same U-Net in PyTorch (Python), in one run.

Model: diffusers' UNet2DModel with base width 64 and four scales (64, 128, 256, 256), two ResNets per
block, attention (head dim 8) at the two coarsest scales. The Python model is the independent
reference of test/diffusion/unet_reference.py (diffusers' structure and names; diffusers itself is not
installed), with the same weights; both run on the same LibTorch (Debian's python3-torch and
libtorch 1.13) with the same thread count.

Sampling: one U-Net evaluation of guidance's doubled batch (B images -> 2B), under inference mode;
images/s = B * evaluations/s / 50 (a 50-step DDIM). Training: optimizer steps of the trainer (min-SNR
noise loss, flips/rotations, AdamW, clipping, EMA) at 64^2. GFLOP/s counts convolutions, linear layers
and attention products, against the best 3x3 convolution rate measured here.

Attention on its own: the U-Net's attention product at its shapes (32 heads of 8 at 16^2 and 8^2 in
training, batch 8; at 56^2 in 224^2 sampling, guidance's 2 images), the C++ engine's fused CPU kernel
against the composite form (baddbmm, softmax, bmm; what PyTorch 1.13 and diffusers' AttnProcessor
run), both in the one C++ program test/diffusion/AttentionBenchmark, in the same run.

The heap: C++ runs as c2l does, keeping freed memory for reuse (itk::ProcessMemory::RetainFreedMemoryForReuse), and
again with glibc's malloc as it starts (the "glibc" column), in the same rounds; Python with glibc's
defaults, as a user runs it.

Usage: /usr/bin/python3 test/benchmarks/diffusion_benchmark.py --build build-diffusion [--threads N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "diffusion"))
import unet_reference as ref  # noqa: E402

CONFIG = dict(ref.BASE, sample_size=64, block_out_channels=[64, 128, 256, 256], layers_per_block=2,
              down_block_types=["DownBlock2D", "DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
              up_block_types=["AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D"], norm_num_groups=32,
              norm_eps=1e-5, attention_head_dim=8, resnet_time_scale_shift="default", flip_sin_to_cos=True,
              freq_shift=0)
# Images per batch (doubled by guidance) and timed repeats, per image side.
SAMPLING = {64: (4, 4), 128: (2, 2), 224: (1, 1)}


def count_flops(model, size):
    flops = [0]

    def conv(module, inputs, output):
        flops[0] += 2 * output.numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]

    def linear(module, inputs, output):
        flops[0] += 2 * output.numel() * module.in_features

    def attention(module, inputs, output):
        b, c, h, w = inputs[0].shape
        inner = module.to_q.out_features
        flops[0] += 2 * 2 * b * (h * w) ** 2 * inner

    hooks = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            hooks.append(module.register_forward_hook(conv))
        elif isinstance(module, nn.Linear):
            hooks.append(module.register_forward_hook(linear))
        elif isinstance(module, ref.Attention):
            hooks.append(module.register_forward_hook(attention))
    with torch.inference_mode():
        model(torch.zeros(1, 3, size, size), torch.tensor([500]))
    for hook in hooks:
        hook.remove()
    return flops[0]


def conv_peak():
    best = 0.0
    for channels, side, batch in [(256, 32, 8), (128, 64, 4), (64, 128, 2)]:
        conv = nn.Conv2d(channels, channels, 3, padding=1)
        x = torch.randn(batch, channels, side, side)
        with torch.inference_mode():
            conv(x)
            start = time.perf_counter()
            for _ in range(3):
                conv(x)
            seconds = (time.perf_counter() - start) / 3
        best = max(best, 2 * channels * channels * 9 * side * side * batch / seconds / 1e9)
    return best


def python_sample(model, size, batch, repeats):
    x = torch.randn(batch, 3, size, size)
    t = torch.tensor([500])
    with torch.inference_mode():
        def evaluate():
            conditional, null = model(torch.cat([x, x]), t).chunk(2)
            return null + 3.0 * (conditional - null)
        evaluate()
        start = time.perf_counter()
        for _ in range(repeats):
            evaluate()
        return (time.perf_counter() - start) / repeats


def python_train(model, size, batch, repeats):
    """The C++ trainer's step in PyTorch: same data path, loss, optimizer, clipping and EMA."""
    generator = torch.Generator().manual_seed(0)
    data = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8)
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    ema = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-2)
    model.train()

    def step():
        index = torch.randint(0, data.shape[0], (batch,), generator=generator)
        images = data[index].float() / 127.5 - 1
        flips = torch.randint(0, 2, (batch,), generator=generator)
        turns = torch.randint(0, 4, (batch,), generator=generator)
        images = torch.stack([torch.rot90(img.flip(2) if f else img, int(k), (1, 2))
                              for img, f, k in zip(images, flips, turns)])
        noise = torch.randn(images.shape, generator=generator)
        t = torch.randint(0, 1000, (batch,), generator=generator)
        a = alphas_cumprod[t].float().view(-1, 1, 1, 1)
        noisy = a.sqrt() * images + (1 - a).sqrt() * noise
        per_sample = (model(noisy, t) - noise).pow(2).mean((1, 2, 3))
        snr = (alphas_cumprod[t] / (1 - alphas_cumprod[t])).float()
        loss = (per_sample * snr.clamp(max=5.0) / snr).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        with torch.no_grad():
            for e, p in zip(ema, model.parameters()):
                e.mul_(0.999).add_(p, alpha=0.001)

    step()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    seconds = (time.perf_counter() - start) / repeats
    model.eval()
    return seconds


def cpp(build, model_file, mode, size, batch, repeats, threads):
    """Seconds per evaluation or step of the C++ engine: {"retain": as c2l runs, "glibc": glibc's default heap}."""
    program = os.path.join(build, "test", "diffusion", "DiffusionBenchmark")
    seconds = {}
    for heap in ("retain", "glibc"):
        out = subprocess.run([program, model_file, mode, str(size), str(batch), str(repeats), str(threads), heap],
                             check=True, capture_output=True, text=True).stdout
        seconds[heap] = json.loads(out.strip().splitlines()[-1])["seconds"]
    return seconds


# (label, pairs = images x heads, tokens, repeats): the attention products of the benchmark's U-Net.
ATTENTION = [("training, 16^2, batch 8", 8 * 32, 256, 3), ("training, 8^2, batch 8", 8 * 32, 64, 5),
             ("sampling 224^2, 56^2, 1x2", 2 * 32, 3136, 1)]


def attention_rows(build, threads):
    """Seconds of the fused kernel and of the composite form, per attention product shape."""
    program = os.path.join(build, "test", "diffusion", "AttentionBenchmark")
    rows = []
    for label, pairs, tokens, repeats in ATTENTION:
        out = subprocess.run([program, str(pairs), str(tokens), "8", str(repeats), str(threads)],
                             check=True, capture_output=True, text=True).stdout
        rows.append((label, json.loads(out.strip().splitlines()[-1])))
    return rows


def faster(a, b):
    return {heap: min(a[heap], b[heap]) for heap in a}


def main():
    with tempfile.TemporaryDirectory(prefix="diffusion-benchmark-") as folder:
        run(folder)


def run(folder):
    """The whole benchmark; its model file is written in folder (removed afterwards)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--sizes", default="64,128,224")
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each is kept")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ref.UNet2DModel(CONFIG).eval()
    model_file = os.path.join(folder, "bench.safetensors")
    ref.write_safetensors(model_file, dict(model.state_dict()), {"unet_config": json.dumps(CONFIG)})
    parameters = sum(p.numel() for p in model.parameters())
    peak = conv_peak()
    print(f"load average before: {os.getloadavg()}")
    print(f"torch {torch.__version__}, {args.threads} threads, U-Net {parameters / 1e6:.1f} M parameters, "
          f"3x3 convolution peak {peak:.1f} GFLOP/s")
    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        batch, repeats = SAMPLING[size]
        flops = count_flops(model, size) * 2 * batch
        # Interleaved rounds, the best of each kept: the machine is shared and noisy.
        c, p = {"retain": float("inf"), "glibc": float("inf")}, float("inf")
        for _ in range(args.rounds):
            c = faster(c, cpp(args.build, model_file, "sample", size, batch, repeats, args.threads))
            p = min(p, python_sample(model, size, batch, repeats))
        rows.append((f"sample {size}^2, batch {batch}x2", c, p, flops, batch / 50))
    flops_train = 3 * count_flops(model, 64) * args.train_batch  # forward + backward ~ 3x forward
    c, p = {"retain": float("inf"), "glibc": float("inf")}, float("inf")
    for _ in range(args.rounds):
        c = faster(c, cpp(args.build, model_file, "train", 64, args.train_batch, 2, args.threads))
        p = min(p, python_train(ref.UNet2DModel(CONFIG), 64, args.train_batch, 2))
    rows.append((f"train 64^2, batch {args.train_batch}", c, p, flops_train, None))
    attention = attention_rows(args.build, args.threads)
    print(f"load average after: {os.getloadavg()}")
    print("| case | C++ s/eval | Python s/eval | C++/Python speed | glibc heap: C++ s/eval, speed | C++ GFLOP/s "
          "| % of conv peak | C++ images/s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, both, p, flops, per_eval in rows:
        c, g = both["retain"], both["glibc"]
        images = (per_eval / c) if per_eval is not None else (args.train_batch / c)
        print(f"| {name} | {c:.3f} | {p:.3f} | {p / c:.2f}x | {g:.3f}, {p / g:.2f}x | {flops / c / 1e9:.1f} "
              f"| {100 * flops / c / 1e9 / peak:.0f}% | {images:.3f} |")
    print()
    print("| attention product (C++) | no gradients: fused s, composite s, speed-up "
          "| forward + backward: fused s, composite s, speed-up |")
    print("|---|---|---|")
    for label, t in attention:
        print(f"| {label} | {t['inference_fused']:.4f}, {t['inference_composite']:.4f}, "
              f"{t['inference_composite'] / t['inference_fused']:.2f}x | {t['training_fused']:.4f}, "
              f"{t['training_composite']:.4f}, {t['training_composite'] / t['training_fused']:.2f}x |")


if __name__ == "__main__":
    main()
