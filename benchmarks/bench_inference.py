"""Inference benchmark of the shipped model: ``python benchmarks/bench_inference.py [--model DIR]``.

The same as ``inspector bench``; kept here so every speed target lives under benchmarks/.
"""

import sys

from inspector.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
