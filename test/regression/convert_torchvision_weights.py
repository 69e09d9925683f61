#!/usr/bin/python3
"""Converts torchvision ResNet weights into the safetensors file LoadTorchvisionBackbone reads.

The output holds the model's state_dict under torchvision's own names (conv1.weight, bn1.running_mean,
layer1.0.downsample.0.weight, ..., fc.weight; num_batches_tracked included), float32, written by hand
in the safetensors format (no `safetensors` package needed): an 8-byte little-endian header length N,
N bytes of JSON mapping each name to {"dtype", "shape", "data_offsets"} (offsets into the byte buffer
that follows, with an optional "__metadata__" map of strings), then the raw little-endian bytes.

The weights are loaded into torchvision's own model first, so a file of another architecture fails
here, loudly, instead of later. The head `fc` (ImageNet's 1000 classes) is kept: the regressor skips it.

Usage (Debian: /usr/bin/python3 with python3-torch and python3-torchvision):
  # torchvision's pretrained ImageNet weights (downloaded by torchvision into its cache):
  /usr/bin/python3 convert_torchvision_weights.py --arch resnet50 --pretrained IMAGENET1K_V2 resnet50.safetensors
  # a state_dict saved with torch.save(model.state_dict(), "model.pth") (also {"state_dict": ...} and
  # DataParallel's "module." prefixes):
  /usr/bin/python3 convert_torchvision_weights.py --arch resnet18 --pth model.pth resnet18.safetensors
"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from safetensors_writer import write_safetensors  # noqa: E402

ARCHITECTURES = ("resnet18", "resnet34", "resnet50")




def load_pth(path):
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)  # no code from the file runs
    except TypeError:  # PyTorch older than 1.13
        state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, choices=ARCHITECTURES)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pth", help="a torchvision state_dict saved with torch.save")
    source.add_argument("--pretrained", help="a torchvision weights enum member, e.g. IMAGENET1K_V1 or IMAGENET1K_V2")
    parser.add_argument("output", help="the .safetensors file to write")
    args = parser.parse_args()

    model = getattr(torchvision.models, args.arch)(weights=None)
    if args.pth:
        state, origin = load_pth(args.pth), args.pth
    else:
        enum = torchvision.models.get_model_weights(args.arch)
        weights = enum[args.pretrained]
        state, origin = weights.get_state_dict(progress=True), str(weights)
    # strict: every name and shape of torchvision's model; fills num_batches_tracked if absent.
    model.load_state_dict(state, strict=True)
    tensors = {name: (t.float() if t.is_floating_point() else t) for name, t in model.state_dict().items()}
    write_safetensors(args.output, tensors, {"architecture": args.arch, "source": origin})
    print("wrote %d tensors of %s (%s) to %s" % (len(tensors), args.arch, origin, args.output))


if __name__ == "__main__":
    sys.exit(main())
