"""``inspector --smoke-test``: start the real window, wait for the shipped model, print, quit.

Packaging checks run it (the wheel test, ``packaging/build_bundle.sh``) to prove that an
installed app or a bundle finds Qt, its style sheet and the default model. It never touches the
user's settings or workspace: both live in a temporary folder that is removed at the end.
Prints one line per stage (times since ``main``), then ``smoke test ok``; exit 1 with one line
if the style sheet or the model is missing or the model does not load within the time limit.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QTimer

TIMEOUT_S = 60.0


def _say(t0: float, text: str) -> None:
    print(f"[{(time.perf_counter() - t0) * 1000:6.0f} ms] {text}", flush=True)


def main(args: argparse.Namespace | None = None) -> int:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="inspector-smoke-") as tmp:
        os.environ["INSPECTOR_CONFIG_DIR"] = str(Path(tmp) / "config")
        os.environ["INSPECTOR_NO_ERROR_DIALOG"] = "1"
        return _run(t0, Path(tmp) / "workspace")


def _run(t0: float, workspace: Path) -> int:
    from inspector.gui import app as gui_app
    from inspector.gui.settings import Settings
    from inspector.resources import resource_path

    qapp = gui_app.create_app()
    if not qapp.styleSheet().strip():
        print(f"smoke test failed: no style sheet at {resource_path('style.qss')}", file=sys.stderr)
        return 1
    errors: list[str] = []
    sys.excepthook = lambda et, ev, tb: (errors.append(f"{et.__name__}: {ev}"), qapp.quit())
    win = gui_app.build_window(workspace, Settings(user="smoke test", role="inspector"), None)
    win.show()
    _say(t0, f"window shown (style sheet {resource_path('style.qss')})")

    deadline = time.monotonic() + TIMEOUT_S

    def poll() -> None:
        text = win.model_label.text()
        if errors or text == "no model" or time.monotonic() > deadline:
            qapp.quit()
        elif text.startswith("model ") and "loading" not in text:
            _say(t0, f"{text} ready ({win.model_label.toolTip().splitlines()[0]})")
            qapp.quit()

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(10)
    qapp.exec()
    timer.stop()
    label, reason = win.model_label.text(), win.model_label.toolTip()
    win.close()
    if errors:
        print(f"smoke test failed: {errors[0]}", file=sys.stderr)
        return 1
    if label == "no model" or "loading" in label:
        why = reason or f"not loaded within {TIMEOUT_S:.0f} s"
        print(f"smoke test failed: no model: {why}", file=sys.stderr)
        return 1
    _say(t0, "smoke test ok")
    return 0
