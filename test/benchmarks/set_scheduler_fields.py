#!/usr/bin/python3
"""Copies a single-file model (.safetensors written by c2l) with fields of its scheduler config
replaced, e.g. clip_sample=false: the same weights sampled under another scheduler setting.

Usage: /usr/bin/python3 set_scheduler_fields.py MODEL.safetensors OUT.safetensors KEY=JSON [KEY=JSON ...]
(JSON values: false, true, 3, "trailing"). OUT must not exist. A local model that only references its
central model by SHA-256 cannot be rewritten this way (its central model's hash would change).
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from set_model_metadata import rewrite  # noqa: E402


def main(source, target, assignments):
    def edit(metadata):
        if "scheduler_config" not in metadata:
            sys.exit(f"{source} has no scheduler_config in its metadata")
        config = json.loads(metadata["scheduler_config"])
        for assignment in assignments:
            key, _, value = assignment.partition("=")
            config[key] = json.loads(value)
        metadata["scheduler_config"] = json.dumps(config)
        return metadata

    rewrite(source, target, edit)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
