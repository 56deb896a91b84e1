"""The bundle's requirements follow pyproject.toml, with the CPU build of ONNX Runtime."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bundle_requirements(*args: str) -> list[str]:
    r = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "requirements.py"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return r.stdout.splitlines()


def test_bundle_takes_pyprojects_dependencies_with_cpu_onnxruntime():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    cpu = bundle_requirements()
    assert len(cpu) == len(deps)
    assert not any(r.startswith("onnxruntime-gpu") for r in cpu)
    swapped = [r for r, d in zip(cpu, deps, strict=True) if r != d]
    assert swapped and all(r.startswith("onnxruntime") for r in swapped)
    assert not any(r.startswith(("torch", "timm", "shap")) for r in cpu)  # training stays out
    assert bundle_requirements("--gpu") == deps
