"""QApplication bootstrap: logging to the workspace, Qt messages -> logging, an exception hook
that logs and shows one dialog, the style sheet, the user's identity (asked once), the window.

Nothing heavy is imported here: the model (ONNX Runtime) is loaded by the window in a worker
after it is on screen, and torch is never imported by the inspection view.
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from inspector import paths
from inspector.gui.settings import Settings

log = logging.getLogger("inspector.gui")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def setup_logging(workspace: Path) -> Path:
    """Log to ``<workspace>/logs/inspector.log`` (rotating); fall back to stderr if unwritable."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    log_file = paths.log_file(workspace)
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
        log_file = Path("<stderr>")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.set_name("inspector-gui")
    for h in list(root.handlers):
        if h.get_name() == "inspector-gui":
            root.removeHandler(h)
            h.close()
    root.addHandler(handler)
    return log_file


def qt_message_handler(mode: QtMsgType, context, message: str) -> None:
    logging.getLogger("qt").log(_QT_LEVELS.get(mode, logging.WARNING), "%s", message)


def install_excepthook(log_file: Path) -> None:
    """Unexpected exceptions: full traceback to the log, one dialog (not one per repeat)."""
    from inspector.domain import InspectorError

    state = {"showing": False}

    def hook(et, ev, tb) -> None:
        text = getattr(ev, "__traceback_text__", None) or "".join(
            traceback.format_exception(et, ev, tb)
        )
        app = QApplication.instance()
        win = app.activeWindow() if app else None
        if isinstance(ev, InspectorError):  # expected: a plain message, never a traceback dialog
            log.warning("%s", ev)
            if win is not None and hasattr(win, "statusBar"):
                win.statusBar().showMessage(str(ev), 10000)
            return
        log.error("unexpected error:\n%s", text)
        if app is None or state["showing"] or os.environ.get(paths.NO_ERROR_DIALOG_ENV):
            return
        from inspector.gui.dialogs import show_unexpected_error

        state["showing"] = True
        try:
            show_unexpected_error(text, str(log_file), win)
        finally:
            state["showing"] = False

    sys.excepthook = hook


def load_style(app: QApplication) -> None:
    from inspector.resources import resource_path

    qss = resource_path("style.qss")
    if qss.is_file():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))


def resolve_workspace(args: argparse.Namespace | None, settings: Settings) -> Path:
    ws = getattr(args, "workspace", None) or settings.last_workspace or None
    from inspector.store.workspace import resolve_workspace as store_resolve

    return store_resolve(ws).absolute()


def create_app(argv: list[str] | None = None) -> QApplication:
    # Worker threads run Python between native calls; a 1 ms GIL switch interval (default 5 ms)
    # lets the GUI thread back in quickly, which is what keeps event-loop stalls short.
    sys.setswitchinterval(0.001)
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Plate Inspector")
    app.setOrganizationName("plate-inspector")
    app.setStyle("Fusion")
    load_style(app)
    return app


def preload_native_libraries() -> None:
    """Import ONNX Runtime, OpenCV and Pillow on the GUI thread *before* the window shows.

    Loading a native library holds the GIL for 0.1-0.2 s each; done in a worker after the window
    appeared, that froze the event loop (bench_gui: 110-130 ms stalls in the first second).
    Done here it costs ~0.3 s of start-up, inside the 1.5 s budget, and no stall afterwards.
    torch is never imported at start.
    """
    import cv2  # noqa: F401
    import onnxruntime  # noqa: F401
    from PIL import Image  # noqa: F401

    import inspector.imageio  # noqa: F401


def build_window(workspace: Path, settings: Settings, model_dir: str | None = None):
    from inspector.gui.main_window import MainWindow

    preload_native_libraries()
    win = MainWindow(workspace, settings, model_dir)
    # Everything imported and built so far lives as long as the window: move it out of the
    # garbage collector's reach, so a full collection (which stops every thread) scans only
    # what the session creates. Measured: full collections of 22-115 ms during a session.
    gc.freeze()
    return win


def main(args: argparse.Namespace | None = None) -> int:
    """``inspector`` with no subcommand (``args.workspace`` may be set; the model comes from
    ``INSPECTOR_MODEL`` or the shipped default)."""
    t0 = time.perf_counter()
    settings = Settings.load()
    workspace = resolve_workspace(args, settings)
    log_file = setup_logging(workspace)
    qInstallMessageHandler(qt_message_handler)
    app = create_app()
    install_excepthook(log_file)
    model_dir = os.environ.get(paths.MODEL_ENV) or None
    if not settings.has_identity:
        from inspector.gui.dialogs import IdentityDialog

        dlg = IdentityDialog(settings.user, settings.role)
        if not dlg.exec():
            return 0
        settings.user, settings.role = dlg.values()
    settings.last_workspace = str(workspace)
    settings.save()
    win = build_window(workspace, settings, model_dir)
    win.show()
    log.info(
        "window shown %.0f ms after start (workspace %s)",
        (time.perf_counter() - t0) * 1000,
        workspace,
    )
    return int(app.exec())
