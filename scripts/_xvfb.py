"""The screenshot scripts' one way to run themselves in a real window: under Xvfb when there is
no display, in a throw-away config folder, as ``script --child TMP``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on a free display number (other sessions may run one too)."""
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r) as fh:
        display = fh.readline().strip()
    return proc, f":{display}"


def run_child(script: str, prefix: str) -> int:
    """Run ``script --child TMP`` with the xcb platform; TMP and Xvfb are removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = dict(os.environ, INSPECTOR_CONFIG_DIR=str(tmp / "config"), INSPECTOR_NO_ERROR_DIALOG="1")
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb, env["DISPLAY"] = start_xvfb()
    env["QT_QPA_PLATFORM"] = "xcb"
    try:
        return subprocess.run([sys.executable, script, "--child", str(tmp)], env=env).returncode
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)
