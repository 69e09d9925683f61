#!/usr/bin/python3
"""Independent PyTorch reference of diffusers' UNet2DModel for the C++ U-Net's agreement test.

Written as plain PyTorch modules that follow diffusers' own structure (unet_2d.py, unet_2d_blocks.py,
resnet.py, attention_processor.py's AttnProcessor with heads folded into the batch and baddbmm), with
diffusers' parameter names. For each tiny configuration it writes, into the output folder:
  <name>.safetensors         weights (diffusers names) with the config in __metadata__["unet_config"]
  <name>_io.safetensors      "sample", "timesteps" and the reference output "expected"
  <name>_model/              the same model as diffusers' UNet2DModel.save_pretrained writes it
  <name>_pipeline/           ... and as DDPMPipeline.save_pretrained writes it (model_index.json,
                             unet/, scheduler/): config files with every key diffusers v0.21.0 writes
Weights are seeded (torch.manual_seed), GroupNorm affine parameters randomised too.

Usage: /usr/bin/python3 unet_reference.py OUTPUT_FOLDER   (Debian's python3-torch; no diffusers)
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import write_safetensors  # noqa: E402





def timestep_embedding(timesteps, dim, flip_sin_to_cos, shift):
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / (half - shift)
    emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps, norm, scale):
        super().__init__()
        self.norm, self.scale = norm, scale
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.time_emb_proj = nn.Linear(temb, 2 * cout if norm == "scale_shift" else cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1, 1, 0) if cin != cout else None

    def forward(self, x, temb):
        h = F.silu(self.norm1(x))
        h = self.conv1(h)
        temb = self.time_emb_proj(F.silu(temb))[:, :, None, None]
        if self.norm == "default":
            h = self.norm2(h + temb)
        else:
            scale, shift = torch.chunk(temb, 2, dim=1)
            h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.scale


class Attention(nn.Module):
    def __init__(self, c, heads, dim_head, groups, eps, rescale):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.scale, self.rescale = heads, dim_head ** -0.5, rescale
        self.group_norm = nn.GroupNorm(groups, c, eps=eps, affine=True) if groups else None
        self.to_q = nn.Linear(c, inner)
        self.to_k = nn.Linear(c, inner)
        self.to_v = nn.Linear(c, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, c), nn.Dropout(0.0)])

    def head_to_batch(self, t):
        b, n, d = t.shape
        t = t.reshape(b, n, self.heads, d // self.heads).permute(0, 2, 1, 3)
        return t.reshape(b * self.heads, n, d // self.heads)

    def forward(self, x):
        residual = x
        b, c, h, w = x.shape
        y = x.view(b, c, h * w).transpose(1, 2)
        if self.group_norm is not None:
            y = self.group_norm(y.transpose(1, 2)).transpose(1, 2)
        q = self.head_to_batch(self.to_q(y))
        k = self.head_to_batch(self.to_k(y))
        v = self.head_to_batch(self.to_v(y))
        scores = torch.baddbmm(torch.empty(q.shape[0], q.shape[1], k.shape[1]), q.float(), k.float().transpose(-1, -2),
                               beta=0, alpha=self.scale)
        probs = scores.softmax(dim=-1).to(q.dtype)
        out = torch.bmm(probs, v)
        bh, n, d = out.shape
        out = out.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(b, n, d * self.heads)
        out = self.to_out[1](self.to_out[0](out))
        out = out.transpose(-1, -2).reshape(b, c, h, w)
        return (out + residual) / self.rescale


class Downsample2D(nn.Module):
    def __init__(self, c, padding):
        super().__init__()
        self.padding = padding
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=padding)

    def forward(self, x):
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0)
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, cfg, cin, cout, temb, attention, downsample):
        super().__init__()
        head = cfg["attention_head_dim"] or cout
        self.resnets = nn.ModuleList([
            ResnetBlock2D(cin if i == 0 else cout, cout, temb, cfg["norm_num_groups"], cfg["norm_eps"],
                          cfg["resnet_time_scale_shift"], 1.0) for i in range(cfg["layers_per_block"])])
        self.attentions = nn.ModuleList([
            Attention(cout, cout // head, head, cfg["norm_num_groups"], cfg["norm_eps"], 1.0)
            for _ in range(cfg["layers_per_block"])]) if attention else None
        self.downsamplers = nn.ModuleList([Downsample2D(cout, cfg["downsample_padding"])]) if downsample else None

    def forward(self, x, temb):
        states = ()
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
            states += (x,)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            states += (x,)
        return x, states


class UpBlock(nn.Module):
    def __init__(self, cfg, cin, prev, cout, temb, attention, upsample):
        super().__init__()
        layers = cfg["layers_per_block"] + 1
        head = cfg["attention_head_dim"] or cout
        resnets = []
        for i in range(layers):
            skip = cin if i == layers - 1 else cout
            rin = prev if i == 0 else cout
            resnets.append(ResnetBlock2D(rin + skip, cout, temb, cfg["norm_num_groups"], cfg["norm_eps"],
                                         cfg["resnet_time_scale_shift"], 1.0))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList([
            Attention(cout, cout // head, head, cfg["norm_num_groups"], cfg["norm_eps"], 1.0)
            for _ in range(layers)]) if attention else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout)]) if upsample else None

    def forward(self, x, skips, temb):
        for i, resnet in enumerate(self.resnets):
            x = torch.cat([x, skips[-1]], dim=1)
            skips = skips[:-1]
            x = resnet(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, cfg, c, temb):
        super().__init__()
        scale = cfg["mid_block_scale_factor"]
        head = cfg["attention_head_dim"] or c
        groups = cfg["norm_num_groups"] if cfg["resnet_time_scale_shift"] == "default" else None
        self.resnets = nn.ModuleList([
            ResnetBlock2D(c, c, temb, cfg["norm_num_groups"], cfg["norm_eps"], cfg["resnet_time_scale_shift"], scale)
            for _ in range(2)])
        self.attentions = nn.ModuleList([Attention(c, c // head, head, groups, cfg["norm_eps"], scale)])

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x)
        return self.resnets[1](x, temb)


class UNet2DModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        widths = cfg["block_out_channels"]
        temb = widths[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], widths[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(widths[0], temb)
        self.down_blocks = nn.ModuleList()
        out = widths[0]
        for i, kind in enumerate(cfg["down_block_types"]):
            cin, out = out, widths[i]
            self.down_blocks.append(DownBlock(cfg, cin, out, temb, kind == "AttnDownBlock2D", i < len(widths) - 1))
        self.mid_block = MidBlock(cfg, widths[-1], temb)
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(widths))
        out = rev[0]
        for i, kind in enumerate(cfg["up_block_types"]):
            prev, out, cin = out, rev[i], rev[min(i + 1, len(widths) - 1)]
            self.up_blocks.append(UpBlock(cfg, cin, prev, out, temb, kind == "AttnUpBlock2D", i < len(widths) - 1))
        self.conv_norm_out = nn.GroupNorm(cfg["norm_num_groups"], widths[0], eps=cfg["norm_eps"])
        self.conv_out = nn.Conv2d(widths[0], cfg["out_channels"], 3, padding=1)

    def forward(self, sample, timesteps):
        timesteps = timesteps * torch.ones(sample.shape[0], dtype=timesteps.dtype)
        emb = timestep_embedding(timesteps, self.cfg["block_out_channels"][0], self.cfg["flip_sin_to_cos"],
                                 self.cfg["freq_shift"])
        emb = self.time_embedding(emb)
        x = self.conv_in(sample)
        skips = (x,)
        for block in self.down_blocks:
            x, states = block(x, emb)
            skips += states
        x = self.mid_block(x, emb)
        for block in self.up_blocks:
            n = len(block.resnets)
            x = block(x, skips[-n:], emb)
            skips = skips[:-n]
        return self.conv_out(F.silu(self.conv_norm_out(x)))


BASE = dict(_class_name="UNet2DModel", in_channels=3, out_channels=3, center_input_sample=False,
            time_embedding_type="positional", act_fn="silu", downsample_padding=1, mid_block_scale_factor=1.0,
            add_attention=True, dropout=0.0)

CONFIGS = {
    # Default time embedding, attention at the coarse scale, multi-head (head dim 4), 16x16.
    "default": dict(BASE, sample_size=16, block_out_channels=[8, 16], layers_per_block=1,
                    down_block_types=["DownBlock2D", "AttnDownBlock2D"], up_block_types=["AttnUpBlock2D", "UpBlock2D"],
                    norm_num_groups=4, norm_eps=1e-5, attention_head_dim=4, resnet_time_scale_shift="default",
                    flip_sin_to_cos=True, freq_shift=0),
    # scale_shift (mid attention without group norm), one head per block, sin first, freq shift 1,
    # unpadded downsampling, mid-block scale factor, three scales, 32x32.
    "scale_shift": dict(BASE, sample_size=32, block_out_channels=[8, 16, 16], layers_per_block=2,
                        down_block_types=["DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"],
                        up_block_types=["AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"], norm_num_groups=4,
                        norm_eps=1e-6, attention_head_dim=None, resnet_time_scale_shift="scale_shift",
                        flip_sin_to_cos=False, freq_shift=1, downsample_padding=0, mid_block_scale_factor=1.5),
}

# What diffusers v0.21.0 adds to a UNet2DModel's config.json beyond the arguments above (its
# register_to_config records every __init__ argument, defaults included).
DIFFUSERS_VERSION = "0.21.0"
DIFFUSERS_UNET_KEYS = dict(_diffusers_version=DIFFUSERS_VERSION, downsample_type="conv", upsample_type="conv",
                           class_embed_type=None, num_class_embeds=None, attn_norm_num_groups=None)
# DDPMScheduler's config.json as diffusers v0.21.0 writes it with the default arguments.
DIFFUSERS_DDPM_SCHEDULER = dict(_class_name="DDPMScheduler", _diffusers_version=DIFFUSERS_VERSION,
                                num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                                trained_betas=None, variance_type="fixed_small", clip_sample=True,
                                prediction_type="epsilon", thresholding=False, dynamic_thresholding_ratio=0.995,
                                clip_sample_range=1.0, sample_max_value=1.0, timestep_spacing="leading",
                                steps_offset=0)

LEGACY = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def main(folder):
    os.makedirs(folder, exist_ok=True)
    torch.set_num_threads(1)
    for index, (name, cfg) in enumerate(CONFIGS.items()):
        torch.manual_seed(1234 + index)
        model = UNet2DModel(cfg).eval()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, nn.GroupNorm):
                    module.weight.copy_(1 + 0.2 * torch.randn_like(module.weight))
                    module.bias.copy_(0.2 * torch.randn_like(module.bias))
        size = cfg["sample_size"]
        sample = torch.randn(2, cfg["in_channels"], size, size)
        timesteps = torch.tensor([7, 901], dtype=torch.int64)
        with torch.no_grad():
            expected = torch.cat([model(sample[i:i + 1], timesteps[i:i + 1]) for i in range(2)])
        weights = dict(model.state_dict())
        if name == "scale_shift":
            # The legacy attention names (diffusers' old AttentionBlock) must load too.
            renamed = {}
            for key, value in weights.items():
                for new, old in LEGACY.items():
                    if ".attentions." in key and "." + new + "." in key:
                        key = key.replace("." + new + ".", "." + old + ".")
                renamed[key] = value
            weights = renamed
        write_safetensors(os.path.join(folder, name + ".safetensors"), weights, {"unet_config": json.dumps(cfg)})
        write_safetensors(os.path.join(folder, name + "_io.safetensors"),
                          {"sample": sample, "timesteps": timesteps, "expected": expected})
        # The same model as a diffusers model folder and as a DDPMPipeline folder, laid out and keyed
        # as diffusers v0.21.0's save_pretrained writes them.
        unet_config = dict(DIFFUSERS_UNET_KEYS, **cfg)
        model_dir = os.path.join(folder, name + "_model")
        os.makedirs(model_dir, exist_ok=True)
        with open(os.path.join(model_dir, "config.json"), "w") as out:
            json.dump(unet_config, out, indent=2, sort_keys=True)
        write_safetensors(os.path.join(model_dir, "diffusion_pytorch_model.safetensors"), weights)
        pipe = os.path.join(folder, name + "_pipeline")
        os.makedirs(os.path.join(pipe, "unet"), exist_ok=True)
        os.makedirs(os.path.join(pipe, "scheduler"), exist_ok=True)
        with open(os.path.join(pipe, "model_index.json"), "w") as out:
            json.dump({"_class_name": "DDPMPipeline", "_diffusers_version": DIFFUSERS_VERSION,
                       "scheduler": ["diffusers", "DDPMScheduler"], "unet": ["diffusers", "UNet2DModel"]}, out,
                      indent=2, sort_keys=True)
        with open(os.path.join(pipe, "unet", "config.json"), "w") as out:
            json.dump(unet_config, out, indent=2, sort_keys=True)
        write_safetensors(os.path.join(pipe, "unet", "diffusion_pytorch_model.safetensors"), weights)
        with open(os.path.join(pipe, "scheduler", "scheduler_config.json"), "w") as out:
            json.dump(dict(DIFFUSERS_DDPM_SCHEDULER, num_train_timesteps=500, beta_schedule="squaredcos_cap_v2",
                           clip_sample=False, prediction_type="v_prediction", timestep_spacing="trailing"), out,
                      indent=2, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
