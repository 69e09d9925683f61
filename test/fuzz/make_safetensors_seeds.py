"""Writes a seed corpus for safetensors_fuzzer: small well-formed safetensors files of every dtype
the parser knows, with metadata, an empty tensor, a scalar and several tensors.

Usage: make_safetensors_seeds.py FOLDER
"""
import json
import os
import struct
import sys


def write(path, tensors, metadata=None):
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, payload) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(payload)]}
        data += payload
    text = json.dumps(header).encode()
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + data)


folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
write(os.path.join(folder, "f32.safetensors"), {"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4))},
      {"format": "c2l-diffusion", "steps": "3"})
write(os.path.join(folder, "mixed.safetensors"),
      {"a": ("F16", [3], b"\x00\x3c" * 3), "b": ("I64", [1], struct.pack("<q", 7)),
       "c": ("U8", [4], b"\x01\x02\x03\x04"), "d": ("BF16", [2], b"\x80\x3f" * 2),
       "e": ("F64", [], struct.pack("<d", 0.5)), "f": ("I32", [0], b"")})
write(os.path.join(folder, "empty.safetensors"), {}, {"unet_config": "{}"})
