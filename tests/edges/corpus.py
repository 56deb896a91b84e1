"""The bad-input corpus, generated on the fly (never committed binaries).

Each maker writes one file a user or an attacker might hand the tool and returns its path.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np


def inspector(*args: str, timeout: int = 240, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m inspector ARGS`` as a user does (a real process)."""
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        **kw,
    )


def one_clear_line(r: subprocess.CompletedProcess) -> str:
    """The error line of a failed run; fails the test on a traceback or a chatty stderr."""
    assert r.returncode != 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()]
    assert len(errors) == 1, r.stderr
    return errors[0]


def _chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(
    width: int,
    height: int,
    depth: int = 8,
    idat: bytes | None = None,
    bad_crc: bytes | None = None,
) -> bytes:
    """A grey PNG written chunk by chunk, so a header can claim anything and a CRC can be wrong."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, 0, 0, 0, 0)
    if idat is None:
        row = b"\x00" + b"\x80" * (width * depth // 8)
        idat = zlib.compress(row * height)
    out = b"\x89PNG\r\n\x1a\n"
    out += _chunk(b"IHDR", ihdr, 0 if bad_crc == b"IHDR" else None)
    out += _chunk(b"IDAT", idat, 0 if bad_crc == b"IDAT" else None)
    return out + _chunk(b"IEND", b"")


def huge_png_header(path: Path, width: int, height: int, depth: int = 8) -> Path:
    """A few hundred bytes whose header claims width x height pixels (the pixels never come)."""
    path.write_bytes(png_bytes(width, height, depth, idat=zlib.compress(b"\x00" * 64)))
    return path


def plate(path: Path, size: int = 64, value: int = 128) -> Path:
    rng = np.random.default_rng(size)
    cv2.imwrite(str(path), rng.normal(value, 10, (size, size)).clip(0, 255).astype(np.uint8))
    return path


def edit_card(model_dir: Path, edit) -> None:
    """Apply ``edit(card_dict)`` (or replace it by its return value) to a model folder's card."""
    f = model_dir / "card.json"
    card = json.loads(f.read_text())
    new = edit(card)
    f.write_text(json.dumps(card if new is None else new))


def without_root_powers() -> list[str]:
    """A command prefix under which file permissions apply (root reads and writes anything).

    Empty for an ordinary user; for root, util-linux ``setpriv`` drops the two capabilities that
    bypass permission bits. Skips the test (with the reason) when neither is possible.
    """
    import os
    import shutil

    import pytest

    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: cannot deny access")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


def inspector_limited(args: list[str], prefix: list[str] = (), file_limit: int | None = None):
    """``inspector ARGS`` in a child whose files may not grow past ``file_limit`` bytes (a full
    disk, as the writer sees it: EFBIG instead of ENOSPC, same code path) or under ``prefix``."""
    code = (
        "import resource, signal, sys\n"
        f"limit = {file_limit!r}\n"
        "if limit is not None:\n"
        "    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
        "from inspector.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [*prefix, sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=240
    )
