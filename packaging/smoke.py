"""Smoke-start the bundle and the Python install offscreen; print size and start-time tables.

    QT_QPA_PLATFORM=offscreen python packaging/smoke.py --bundle dist/plate-inspector \
        --python-install build/bundle/venv [--repeat 5]

Each start runs ``--smoke-test`` (window on screen, shipped model loaded, quit); times are wall
clock from spawning the process to each line it prints, so they include the bundle's unpacking
and Python's start; the two are started in turn, so machine load hits both alike. The first
start of each is reported apart (cold file cache). Then ``predict`` scores a plate with each. Exit 1 if any start or prediction fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXE = ".exe" if sys.platform == "win32" else ""


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "INSPECTOR_"))}
    env.update(QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"))
    env.update(INSPECTOR_CONFIG_DIR=str(tmp / "config"), INSPECTOR_WORKSPACE=str(tmp / "ws"))
    return env


def smoke_start(exe: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds from spawn to 'window shown', to 'ready' (model loaded) and to exit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "--smoke-test"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    marks: dict[str, float] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if "window shown" in line:
            marks["window"] = time.perf_counter() - t0
        elif " ready (" in line:
            marks["model"] = time.perf_counter() - t0
    err = proc.stderr.read() if proc.stderr else ""
    marks["exit"] = time.perf_counter() - t0
    if proc.wait() != 0 or "window" not in marks or "model" not in marks:
        raise SystemExit(f"smoke start of {exe} failed (exit {proc.returncode}): {err.strip()}")
    return marks


def plate_image(tmp: Path) -> Path:
    neu = REPO.parent / "shared" / "data" / "neu-cls" / "scratches"
    if neu.is_dir():
        return sorted(neu.iterdir())[0]
    import cv2
    import numpy as np

    img = np.random.default_rng(0).normal(128, 20, (200, 200)).clip(0, 255).astype("uint8")
    cv2.imwrite(str(tmp / "plate.png"), img)
    return tmp / "plate.png"


def predict(exe: Path, plate: Path, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([str(exe), "predict", str(plate)], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{exe} predict failed (exit {r.returncode}): {r.stderr.strip()}")
    return took, r.stdout.splitlines()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, required=True, help="the bundle folder (dist/...)")
    ap.add_argument("--python-install", type=Path, required=True, help="a venv with the wheel")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bindir = "Scripts" if sys.platform == "win32" else "bin"
    programs = {
        "bundle": (args.bundle / f"plate-inspector{EXE}", args.bundle / f"inspector{EXE}"),
        "Python install": (args.python_install / bindir / f"inspector{EXE}",) * 2,
    }
    with tempfile.TemporaryDirectory(prefix="inspector-bundle-smoke-") as tmp:
        env = clean_env(Path(tmp))
        plate = plate_image(Path(tmp))
        # Interleaved (bundle, install, bundle, ...) so a busy machine slows both alike.
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in programs}
        for _ in range(args.repeat + 1):
            for name, (gui, _cli) in programs.items():
                runs[name].append(smoke_start(gui, env))
        rows = []
        for name, (_gui, cli) in programs.items():
            times, first_line = [], ""
            for _ in range(3):
                took, first_line = predict(cli, plate, env)
                times.append(took)
            rows.append((name, runs[name][0], runs[name][1:], statistics.median(times), first_line))

    size, count = folder_size(args.bundle)
    site = next((args.python_install / "lib").glob("python3*/site-packages"), None)
    site = site or args.python_install / "Lib" / "site-packages"
    vsize, vcount = folder_size(site)
    print()
    print("| | size on disk | files |")
    print("|---|---|---|")
    print(f"| bundle `{args.bundle.name}/` | {size / 2**20:.0f} MiB | {count} |")
    print(
        f"| Python install (venv site-packages, same deps) | {vsize / 2**20:.0f} MiB | {vcount} |"
    )
    print()
    print(
        f"start offscreen, `--smoke-test`, seconds from spawn; median of {args.repeat} warm starts"
    )
    print()
    print(
        "| | window shown | model ready | exit | first start: window / model | predict 1 plate (median of 3) |"
    )
    print("|---|---|---|---|---|---|")
    for name, first, warm, took, _ in rows:
        med = {k: statistics.median(r[k] for r in warm) for k in ("window", "model", "exit")}
        print(
            f"| {name} | {med['window']:.2f} | {med['model']:.2f} | {med['exit']:.2f} | "
            f"{first['window']:.2f} / {first['model']:.2f} | {took:.2f} |"
        )
    print()
    for name, *_, first_line in rows:
        print(f"{name} predict: {first_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
