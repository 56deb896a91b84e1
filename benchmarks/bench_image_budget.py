"""Benchmark: what a huge image costs before it is refused or shrunk (issue 14 item 9).

    .venv/bin/python benchmarks/bench_image_budget.py [--decode]

Writes the issue's file, an 800 KB 16-bit PNG of 20000 x 20000 px, and a 12000 x 12000 JPEG
into a temporary folder, then times ``inspector.imageio.load_image`` on each in a fresh process
and reports its wall time and peak resident memory above the process's baseline (Linux:\n/proc/self VmHWM after resetting it). Before the
budget the PNG took 5 GB and 19 s to decode (the issue's figures). ``--decode`` also times the
full decode with the budget raised (needs ~2 GB of free memory); ``--before ../main`` the same
file with another checkout's code.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import json, sys, time
from inspector.domain import ImageLoadError
from inspector.imageio import load_image

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024  # MiB

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
base = status("VmRSS")
t = time.perf_counter()
try:
    shape, outcome = list(load_image(sys.argv[1]).shape), "decoded"
except ImageLoadError as exc:
    shape, outcome = None, str(exc).split(": ", 1)[1]
dt = time.perf_counter() - t
print(json.dumps({"s": dt, "mib": status("VmHWM") - base, "shape": shape, "outcome": outcome}))
"""


def write_deep_png(path: Path, side: int = 20000) -> Path:
    """A 16-bit grey PNG of side x side zeros, compressed row by row (never all in memory)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    z = zlib.compressobj(9)
    row = b"\x00" * (1 + 2 * side)
    idat = b"".join(z.compress(row * 500) for _ in range(side // 500)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def write_big_jpeg(path: Path, side: int = 12000) -> Path:
    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:side:8, 0:side:8]
    small = ((xx // 100 + yy // 100) % 2 * 160 + 40).astype(np.uint8)
    Image.fromarray(small).resize((side, side)).save(path, quality=90)
    return path


def measure(path: Path, budget_mb: float | None = None, code: Path = REPO) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    if budget_mb is not None:
        env["INSPECTOR_IMAGE_MEMORY_MB"] = str(budget_mb)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env, cwd=code
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decode", action="store_true", help="also time the full decode (~2 GB)")
    ap.add_argument(
        "--before",
        metavar="CHECKOUT",
        type=Path,
        help="also time the PNG with the inspector package of another checkout (e.g. main "
        "before the budget; ~5 GB)",
    )
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        png = write_deep_png(Path(tmp) / "deep.png")
        jpg = write_big_jpeg(Path(tmp) / "big.jpg")
        kb = png.stat().st_size / 1024
        rows.append((f"16-bit PNG 20000² ({kb:.0f} KB), default budget", measure(png)))
        if args.decode:
            rows.append(("same, budget raised to 100 GB (full decode)", measure(png, 100_000)))
        if args.before:
            rows.append((f"same, code of {args.before}", measure(png, code=args.before)))
        mb = jpg.stat().st_size / 2**20
        rows.append((f"JPEG 12000² ({mb:.1f} MB), default budget", measure(jpg)))
        rows.append(("same, budget 32 MiB (decoded at reduced scale)", measure(jpg, 32)))
    print("| file | time | peak memory | result |\n|---|---|---|---|")
    for name, r in rows:
        result = f"{r['shape'][0]}×{r['shape'][1]} px" if r["shape"] else r["outcome"]
        print(f"| {name} | {r['s'] * 1000:,.0f} ms | {r['mib']:,.0f} MiB | {result} |")


if __name__ == "__main__":
    main()
