"""Writes safetensors files with nothing but the standard library and torch (Debian has no
safetensors package): an 8-byte little-endian header length, the JSON header (dtype, shape and
data_offsets per tensor, optional __metadata__ of strings), then the raw bytes. Shared by the
reference scripts and the torchvision weight converter."""
import json
import os
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.int64: "I64",
          torch.uint8: "U8"}


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} (and metadata, a {str: str}) to path through a temporary file."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, offset = [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().cpu().contiguous().numpy().tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)  # the data buffer starts 8-byte aligned
    temporary = path + ".partial"
    with open(temporary, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for blob in blobs:
            out.write(blob)
    os.replace(temporary, path)
