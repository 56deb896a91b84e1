"""The wheel is complete: built from an sdist, installed into a fresh venv outside the checkout,
it scores a plate with the shipped model and opens the styled window (offscreen).

The fresh venv gets only the wheel (``--no-deps``); its dependencies come from the project's
venv through a ``.pth`` line, so no network is needed. A plain path line in a ``.pth`` does not
run the ``.pth`` files found there, so the project's own editable install stays invisible and
``import inspector`` can only find the installed wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import cv2
import pytest

from tests.conftest import synthetic_plate

REPO = Path(__file__).resolve().parents[2]
#: what a build reads; copied so the build writes nothing into the checkout
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "inspector",
    "models",
    "resources",
)
SHIPPED = {
    "models/default": "inspector/_shipped/models/default",
    "resources": "inspector/_shipped/resources",
}

pytestmark = pytest.mark.slow


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (
        f"{cmd[:3]} exit {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    )
    return r


def build_wheel(tmp: Path, env: dict[str, str]) -> Path:
    """sdist first, then the wheel from the unpacked sdist (as ``python -m build`` does)."""
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in SOURCES:
        p = REPO / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=ignore)
        else:
            shutil.copy2(p, src / name)
    hook = "import sys; from setuptools import build_meta as b; print(getattr(b, sys.argv[1])(sys.argv[2]))"
    sdist = run(
        [sys.executable, "-c", hook, "build_sdist", str(tmp / "dist")], src, env
    ).stdout.split()[-1]
    with tarfile.open(tmp / "dist" / sdist) as tar:
        tar.extractall(tmp / "sdist", filter="data")
    unpacked = next((tmp / "sdist").iterdir())
    wheel = run([sys.executable, "-c", hook, "build_wheel", str(tmp / "dist")], unpacked, env)
    return tmp / "dist" / wheel.stdout.split()[-1]


def clean_env(tmp: Path) -> dict[str, str]:
    # No PYTHONPATH (it would import the checkout), no INSPECTOR_MODEL, no user settings.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "INSPECTOR_", "VIRTUAL_ENV"))
    }
    env.update(
        INSPECTOR_CONFIG_DIR=str(tmp / "config"),
        INSPECTOR_WORKSPACE=str(tmp / "workspace"),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def test_wheel_installed_outside_the_checkout_predicts_and_opens_the_window(tmp_path: Path):
    env = clean_env(tmp_path)  # for every child: the checkout must be invisible, also to pip
    wheel = build_wheel(tmp_path, env)

    # Every shipped file is in the wheel, byte for byte the size of the repo's copy.
    with zipfile.ZipFile(wheel) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist()}
    for src, dst in SHIPPED.items():
        for f in sorted((REPO / src).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                name = f"{dst}/{f.relative_to(REPO / src).as_posix()}"
                assert sizes.get(name) == f.stat().st_size, f"{name} missing from {wheel.name}"

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    py = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
         "--no-index", str(wheel)], tmp_path, env)  # fmt: skip
    site = run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site.stdout.strip(), "project-deps.pth").write_text("\n".join(sorted(deps)) + "\n")

    where = run(
        [str(py), "-c", "import inspector, inspector.resources as r;"
         "print(inspector.__file__, r.shipped_model_dir(), r.resource_path('style.qss'))"],
        tmp_path, env,
    ).stdout.split()  # fmt: skip
    for p in where:
        assert p.startswith(str(venv)), f"{p} is not the installed copy in {venv}"

    plate = tmp_path / "plate.png"
    cv2.imwrite(str(plate), synthetic_plate(5, 200, seed=3))
    card = json.loads((REPO / "models/default/card.json").read_text(encoding="utf-8"))
    out = run([str(venv / "bin" / "inspector"), "predict", "--json", str(plate)], tmp_path, env)
    result = json.loads(out.stdout)
    assert result["model_version"] == card["version"]
    assert set(result["probabilities"]) == set(card["classes"])
    assert all(0.0 <= p <= 1.0 for p in result["probabilities"].values())

    smoke = run([str(venv / "bin" / "inspector"), "--smoke-test"], tmp_path, env)
    assert "smoke test ok" in smoke.stdout
    assert f"style sheet {where[2]}" in smoke.stdout
    assert f"model {card['version']}" in smoke.stdout
