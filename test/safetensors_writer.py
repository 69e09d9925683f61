"""Writes and reads safetensors files with nothing but the standard library and torch (Debian has no
safetensors package): an 8-byte little-endian header length, the JSON header (dtype, shape and
data_offsets per tensor, optional __metadata__ of strings), then the raw bytes. Shared by the
reference scripts and the torchvision weight converter. (The reader trusts its input: it reads
files the tests themselves wrote.)"""
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


def read_safetensors(path):
    """Returns ({name: tensor}, metadata) of a file written by write_safetensors or by the module."""
    with open(path, "rb") as stream:
        length = struct.unpack("<Q", stream.read(8))[0]
        header = json.loads(stream.read(length))
        data = stream.read()
    metadata = header.pop("__metadata__", {})
    by_name = {value: key for key, value in DTYPES.items()}
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=by_name[entry["dtype"]]) if end > begin else \
            torch.empty(0, dtype=by_name[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata
