#!/usr/bin/python3
"""Diffusers' unconditional training step in plain PyTorch, the reference of the C++ trainer's.

A transcription of what diffusers' training scripts do per optimizer step (train_unconditional.py,
with train_text_to_image.py's min-SNR weighting), on the U-Net of unet_reference.py (diffusers'
structure and names; diffusers itself is not installed here):
  noisy = DDPMScheduler.add_noise(x0, noise, t)        sqrt(abar_t) x0 + sqrt(1 - abar_t) noise
  snr = training_utils.compute_snr(scheduler, t)       (alpha_t / sigma_t)^2
  weights = min(snr, gamma) / snr                      (epsilon prediction; / (snr + 1) for v; 1 without gamma)
  loss = (mse(model(noisy, t), target, reduction="none").mean([1, 2, 3]) * weights).mean()
  loss.backward(); clip_grad_norm_(params, clip); torch.optim.AdamW.step(); EMAModel.step(params)
EMAModel.get_decay (v0.21): step = optimization_step - 1; 0 when step <= 0, else
min(decay, (1 + step) / (10 + step)).

Usage: /usr/bin/python3 train_step_reference.py MODEL.safetensors BATCHES.safetensors OUTPUT.safetensors
MODEL holds the initial weights (diffusers names) and "unet_config" in its metadata. BATCHES holds
"images.K" (in [-1, 1]), "noise.K" and "timesteps.K" for each step K, and in its metadata "options"
(JSON: steps, lr, betas, eps, weight_decay, clip, snr_gamma, ema_decay, prediction_type,
num_train_timesteps, beta_start, beta_end). OUTPUT gets "loss" (one per step), "seconds" (each step's
wall time), the weights after the last step ("model.*") and their EMA ("ema.*").
"""
import copy
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import read_safetensors, write_safetensors  # noqa: E402
from unet_reference import UNet2DModel  # noqa: E402


def ema_decay(decay, optimization_step):
    step = optimization_step - 1
    if step <= 0:
        return 0.0
    return min(decay, (1 + step) / (10 + step))


def main(model_path, batches_path, output_path):
    torch.set_num_threads(1)
    weights, metadata = read_safetensors(model_path)
    tensors, batch_metadata = read_safetensors(batches_path)
    options = json.loads(batch_metadata["options"])
    model = UNet2DModel(json.loads(metadata["unet_config"]))
    model.load_state_dict(weights)
    model.train()
    ema = copy.deepcopy(model)

    # DDPMScheduler's linear betas, alphas_cumprod in float32 as diffusers holds them.
    betas = torch.linspace(options["beta_start"], options["beta_end"], options["num_train_timesteps"],
                           dtype=torch.float32)
    alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    optimizer = torch.optim.AdamW(model.parameters(), lr=options["lr"], betas=tuple(options["betas"]),
                                  eps=options["eps"], weight_decay=options["weight_decay"])
    losses, seconds = [], []
    for step in range(options["steps"]):
        start = time.perf_counter()
        x0 = tensors["images.%d" % step]
        noise = tensors["noise.%d" % step]
        t = tensors["timesteps.%d" % step]
        abar = alphas_cumprod[t].flatten()[:, None, None, None]
        noisy = abar.sqrt() * x0 + (1 - abar).sqrt() * noise
        if options["prediction_type"] == "epsilon":
            target = noise
        else:
            target = abar.sqrt() * noise - (1 - abar).sqrt() * x0
        alpha = alphas_cumprod[t] ** 0.5
        sigma = (1.0 - alphas_cumprod[t]) ** 0.5
        snr = (alpha / sigma) ** 2
        if options["snr_gamma"] > 0:
            weights = torch.stack([snr, options["snr_gamma"] * torch.ones_like(snr)], dim=1).min(dim=1)[0]
            weights = weights / snr if options["prediction_type"] == "epsilon" else weights / (snr + 1)
        else:  # diffusers without --snr_gamma: the plain mean squared error
            weights = torch.ones_like(snr)

        optimizer.zero_grad()
        output = model(noisy, t)
        loss = (F.mse_loss(output.float(), target.float(), reduction="none").mean(dim=[1, 2, 3]) * weights).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), options["clip"])
        optimizer.step()
        decay = ema_decay(options["ema_decay"], step + 1)
        with torch.no_grad():
            for average, parameter in zip(ema.parameters(), model.parameters()):
                average.sub_((1 - decay) * (average - parameter))
        losses.append(loss.item())
        seconds.append(time.perf_counter() - start)

    out = {"loss": torch.tensor(losses, dtype=torch.float64), "seconds": torch.tensor(seconds, dtype=torch.float64)}
    out.update({"model." + name: value.detach() for name, value in model.state_dict().items()})
    out.update({"ema." + name: value.detach() for name, value in ema.state_dict().items()})
    write_safetensors(output_path, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
