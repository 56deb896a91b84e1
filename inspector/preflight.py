"""Checks before Qt starts: the system libraries Qt needs on Linux, and a reachable X display.

Qt reports a missing library of its X11 platform plugin (``libxcb-icccm4`` on a fresh Debian)
or an unreachable display as ``This application failed to start because no Qt platform plugin
could be initialized`` and an abort (core dump). :func:`check_gui_can_start` finds the same
problems first, with the dynamic loader itself (``ctypes.CDLL``), and raises
:class:`QtPlatformError` with one line that names the exact ``apt-get install`` command.

Qt-free and cheap (a few ``dlopen`` calls): ``inspector`` runs it before importing PySide6.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from inspector.domain import InspectorError

#: Libraries QtGui / QtWidgets load on every platform (offscreen too): soname -> Debian package.
QT_GUI_LIBS: Mapping[str, str] = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11.so.6": "libx11-6",
    "libxcb.so.1": "libxcb1",
}

#: What Qt 6's X11 platform plugin (libqxcb.so -> libQt6XcbQpa.so.6) links on top of those.
XCB_PLUGIN_LIBS: Mapping[str, str] = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


class QtPlatformError(InspectorError):
    """Qt cannot start here: a system library is missing or there is no display."""


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        pass
    bundled = Path(getattr(sys, "_MEIPASS", "")) / soname  # a PyInstaller bundle's own copy
    if getattr(sys, "frozen", False) and bundled.is_file():
        try:
            ctypes.CDLL(str(bundled))
            return True
        except OSError:
            return False
    return False


def missing_libraries(libs: Mapping[str, str]) -> dict[str, str]:
    """The entries of ``libs`` (soname -> package) that the dynamic loader cannot load."""
    return {so: pkg for so, pkg in libs.items() if not _loads(so)}


def install_command(packages: list[str]) -> str:
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install -y {' '.join(sorted(set(packages)))}"


def platform_plugin(env: Mapping[str, str]) -> str | None:
    """The platform plugin Qt will try first: ``QT_QPA_PLATFORM``, else what Qt picks on Linux."""
    wanted = env.get("QT_QPA_PLATFORM", "").strip()
    if wanted:
        return wanted.split(";")[0].split(":")[0].strip() or None
    if env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def _display_error(display: str) -> str | None:
    """Connect to the X display with libxcb (what Qt does); return the reason if it fails."""
    if not display:
        return "no display (DISPLAY is not set)"
    xcb = ctypes.CDLL("libxcb.so.1")
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    conn = xcb.xcb_connect(display.encode(), None)
    try:
        failed = xcb.xcb_connection_has_error(conn)
    finally:
        xcb.xcb_disconnect(conn)
    return f"cannot connect to the X display {display}" if failed else None


def _message(missing: dict[str, str], what: str) -> str:
    libs = ", ".join(missing)
    if shutil.which("apt-get"):
        how = f"install them with: {install_command(list(missing.values()))}"
    else:
        how = (
            f"install the packages that provide them (Debian/Ubuntu: {' '.join(missing.values())})"
        )
    return f"{what} needs system libraries that are missing ({libs}); {how}"


def check_gui_can_start(env: Mapping[str, str] | None = None) -> None:
    """Raise :class:`QtPlatformError` (one line, with the fix) if Qt would abort on start."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or importlib.util.find_spec("PySide6") is None:
        return
    missing = missing_libraries(QT_GUI_LIBS)
    if missing:
        raise QtPlatformError(_message(missing, "The Qt GUI"))
    if platform_plugin(env) != "xcb":
        return
    missing = missing_libraries(XCB_PLUGIN_LIBS)
    if missing:
        raise QtPlatformError(_message(missing, "Qt's X11 platform plugin (xcb)"))
    problem = _display_error(env.get("DISPLAY", ""))
    if problem:
        raise QtPlatformError(
            f"{problem}; start it on a desktop session, or set QT_QPA_PLATFORM=offscreen "
            "to run without a screen"
        )
