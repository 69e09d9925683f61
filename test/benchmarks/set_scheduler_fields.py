#!/usr/bin/python3
"""Copies a single-file model (.safetensors written by c2l) with fields of its scheduler config
replaced, e.g. clip_sample=false: the same weights sampled under another scheduler setting.

Usage: /usr/bin/python3 set_scheduler_fields.py MODEL.safetensors OUT.safetensors KEY=JSON [KEY=JSON ...]
(JSON values: false, true, 3, "trailing"). OUT must not exist. A local model that only references its
central model by SHA-256 cannot be rewritten this way (its central model's hash would change).
"""
import json
import os
import struct
import sys


def main(source, target, assignments):
    if os.path.exists(target):
        sys.exit(f"{target} exists; choose a new file name")
    with open(source, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    metadata = header.get("__metadata__", {})
    if "scheduler_config" not in metadata:
        sys.exit(f"{source} has no scheduler_config in its metadata")
    config = json.loads(metadata["scheduler_config"])
    for assignment in assignments:
        key, _, value = assignment.partition("=")
        config[key] = json.loads(value)
    metadata["scheduler_config"] = json.dumps(config)
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(target, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + length:])


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
