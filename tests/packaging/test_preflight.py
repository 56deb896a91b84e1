"""Before Qt starts: a missing system library or display is one line with the fix, not an abort."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.preflight import (
    XCB_PLUGIN_LIBS,
    check_gui_can_start,
    missing_libraries,
    platform_plugin,
)

REPO = Path(__file__).resolve().parents[2]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-only check")


@linux_only
def test_missing_libraries_names_only_what_the_loader_cannot_load():
    libs = {"libc.so.6": "libc6", "libplate-inspector-absent.so.7": "plate-inspector-absent7"}
    assert missing_libraries(libs) == {"libplate-inspector-absent.so.7": "plate-inspector-absent7"}


@pytest.mark.parametrize(
    ("env", "plugin"),
    [
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "offscreen"),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "wayland"),
        ({"QT_QPA_PLATFORM": "xcb:nograb"}, "xcb"),
        ({"DISPLAY": ":0"}, "xcb"),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "wayland"),
        ({}, "xcb"),
    ],
)
def test_platform_plugin_is_the_one_qt_tries_first(env, plugin):
    assert platform_plugin(env) == plugin


@linux_only
def test_offscreen_needs_no_x_libraries_or_display():
    check_gui_can_start({"QT_QPA_PLATFORM": "offscreen"})  # the GUI tests run this way


@linux_only
def test_x11_start_without_its_libraries_or_display_prints_one_line_with_the_fix(tmp_path):
    # DISPLAY :187 does not exist; the machine may also lack some xcb libraries (a fresh Debian
    # lacks libxcb-icccm4 and libxcb-keysyms1). Either way: exit 2, one line, never Qt's abort.
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        QT_QPA_PLATFORM="xcb",
        DISPLAY=":187",
        INSPECTOR_CONFIG_DIR=str(tmp_path / "config"),
        INSPECTOR_WORKSPACE=str(tmp_path / "ws"),
    )
    r = subprocess.run(
        [sys.executable, "-m", "inspector"], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("inspector: error: "), r.stderr
    # Ground truth from ldconfig's cache (find_library), not from the code under test.
    absent = [pkg for so, pkg in XCB_PLUGIN_LIBS.items() if not ctypes.util.find_library(so[3:-5])]
    if absent:
        assert "apt-get install -y " in lines[0]
        for pkg in absent:
            assert pkg in lines[0]
    else:
        assert "cannot connect to the X display :187" in lines[0]
        assert "QT_QPA_PLATFORM=offscreen" in lines[0]
