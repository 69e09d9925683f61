#!/usr/bin/python3
"""Copies a single-file model (.safetensors written by c2l) with metadata entries set, e.g. a record
added after training: the same weights, other metadata.

Usage: /usr/bin/python3 set_model_metadata.py MODEL.safetensors OUT.safetensors KEY=VALUE [KEY=VALUE ...]
(VALUE is stored as the string given). OUT must not exist. A local model that only references its
central model by SHA-256 cannot be rewritten this way (its central model's hash would change).
"""
import json
import os
import struct
import sys


def rewrite(source, target, edit):
    """Writes TARGET: SOURCE with its header's metadata (a dict of strings) passed through EDIT."""
    if os.path.exists(target):
        sys.exit(f"{target} exists; choose a new file name")
    with open(source, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    header["__metadata__"] = edit(header.get("__metadata__", {}))
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)  # the tensors stay 8-byte aligned
    with open(target, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])


def main(source, target, assignments):
    def edit(metadata):
        for assignment in assignments:
            key, separator, value = assignment.partition("=")
            if not separator or not key:
                sys.exit(f"{assignment}: expected KEY=VALUE")
            metadata[key] = value
        return metadata

    rewrite(source, target, edit)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
