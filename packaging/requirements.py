"""Print the app's runtime requirements from pyproject.toml, one per line, for a bundle build.

    python packaging/requirements.py          # onnxruntime (CPU) in place of onnxruntime-gpu
    python packaging/requirements.py --gpu    # exactly pyproject's list

The bundle targets line PCs without a GPU: the CPU build of ONNX Runtime is a tenth of the
GPU one (whose CUDA provider alone is 280 MB) and the app falls back to the CPU anyway.
pyproject.toml stays the one source of truth; this only swaps the package name.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def requirements(gpu: bool = False) -> list[str]:
    deps = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    if gpu:
        return list(deps)
    return [re.sub(r"^onnxruntime-gpu\b", "onnxruntime", d) for d in deps]


if __name__ == "__main__":
    print("\n".join(requirements(gpu="--gpu" in sys.argv[1:])))
