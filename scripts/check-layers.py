#!/usr/bin/env python3
"""Checks that every #include points down the layers, never back up:

    core <- autograd <- nn <- proformer <- reports <- apps, python    (cuda beside proformer, over nn)

and inside proformer/, whose subfolders build on each other in this order:

    data <- (proformer/*.h: model, config, checkpoint) <- genome <- evaluation
         <- inference <- training <- design <- api

A file may include its own folder and those before it. tests/, bench/,
examples/ and fuzz/ sit on top and may include anything.

    python3 scripts/check-layers.py [ROOT]     one line per include that runs back up; exit 1 if any
    python3 scripts/check-layers.py --self-test   shows that an include back up is caught
"""
import os
import re
import sys
import tempfile

BELOW = {  # the folders each folder may include, besides itself
    "core": [],
    "autograd": ["core"],
    "nn": ["core", "autograd"],
    "cuda": ["core", "autograd", "nn"],
    "proformer": ["core", "autograd", "nn"],
    "reports": ["core", "autograd", "nn", "proformer"],
    "apps": ["core", "autograd", "nn", "cuda", "proformer", "reports"],
    "python": ["core", "autograd", "nn", "cuda", "proformer", "reports"],
}
PROFORMER_ORDER = ["data", "", "genome", "evaluation", "inference", "training", "design", "api"]  # "": proformer/*.h
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def proformer_level(path):
    """The position in PROFORMER_ORDER of proformer/<sub>/... or proformer/<file>."""
    parts = path.split("/")
    sub = parts[1] if len(parts) > 2 else ""
    return PROFORMER_ORDER.index(sub) if sub in PROFORMER_ORDER else None


def violations(root):
    found = []
    for folder, allowed in BELOW.items():
        for directory, _, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if not name.endswith((".h", ".cpp", ".cu", ".cuh")):
                    continue
                path = os.path.relpath(os.path.join(directory, name), root)
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                    includes = INCLUDE.findall(f.read())
                for included in includes:
                    top = included.split("/")[0]
                    if top not in BELOW:
                        continue  # a system or third-party header
                    if top != folder and top not in allowed:
                        found.append(f"{path}: includes {included}: {folder}/ may include only "
                                     f"{', '.join(allowed + [folder])}")
                    elif folder == "proformer" == top:
                        own, other = proformer_level(path), proformer_level(included)
                        if own is not None and other is not None and other > own:
                            found.append(f"{path}: includes {included}: inside proformer/ that runs back up "
                                         f"({' <- '.join(s or '*.h' for s in PROFORMER_ORDER)})")
    return found


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(path, text):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        write("proformer/inference/fine.cpp", '#include "proformer/data/reader.h"\n#include <vector>\n')
        write("proformer/inference/report.cpp", '#include "reports/tsv.h"\n')
        write("proformer/data/upward.h", '#include "proformer/training/trainer.h"\n')
        write("core/tensor.cpp", '#include "nn/module.h"\n')
        found = violations(root)
        expected = ["proformer/inference/report.cpp", "proformer/data/upward.h", "core/tensor.cpp"]
        assert sorted(line.split(":")[0] for line in found) == sorted(expected), found
    print("check-layers self-test: the 3 includes that run back up are caught, the one that does not is not")


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = violations(root)
    for line in found:
        print(line)
    print(f"check-layers: {len(found)} include(s) running back up")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
