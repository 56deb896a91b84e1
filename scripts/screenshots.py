"""Start the real window under Xvfb and save screenshots of the main view to docs/screenshots/.

    .venv/bin/python scripts/screenshots.py        # needs: apt-get install xvfb libxcb-icccm4 libxcb-keysyms1

Uses real NEU plates from ../shared/data/neu-cls when present (synthetic ones otherwise), the
default model when present (a tiny untrained one otherwise), a throw-away workspace and settings.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from _xvfb import run_child

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"


def parent() -> int:
    return run_child(__file__, "inspector-shots-")


def plates(tmp: Path) -> Path:
    neu = REPO.parent / "shared" / "data" / "neu-cls"
    out = tmp / "plates"
    out.mkdir()
    if neu.is_dir():
        for cls in sorted(p for p in neu.iterdir() if p.is_dir()):
            for f in sorted(cls.iterdir())[:4]:
                shutil.copy(f, out / f.name)
    else:
        sys.path.insert(0, str(REPO / "tests"))
        import cv2
        from conftest import synthetic_plate

        for i in range(18):
            cv2.imwrite(str(out / f"plate_{i:02d}.png"), synthetic_plate(i, 200, seed=i))
    (out / "truncated.bmp").write_bytes(b"BM\x00\x00")
    (out / "empty.png").write_bytes(b"")
    (out / "notes.bmp").write_text("not an image")
    return out


def model(tmp: Path) -> str:
    from inspector.registry import default_model_dir

    if (default_model_dir() / "model.onnx").is_file():
        return str(default_model_dir())
    out = tmp / "tiny-model"
    code = (
        f"import sys; sys.path.insert(0, {str(REPO / 'tests')!r});"
        "from conftest import make_model_version; from pathlib import Path;"
        f"make_model_version(Path({str(out)!r}), classes=('crazing','inclusion','patches',"
        "'pitted_surface','rolled-in_scale','scratches'), size=200, version='tiny-untrained')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    return str(out)


def child(tmp: Path) -> int:
    folder = plates(tmp)
    model_dir = model(tmp)
    from PySide6.QtCore import QTimer

    qapp, win, wait = open_window(tmp / "ws", model_dir, user="Ana Silva", role="inspector")

    wait(lambda: win.isVisible(), 5)
    win.inspect.welcome.grab().save(str(OUT / "welcome.png"))
    wait(lambda: win.controller.predictor is not None or win.model_label.text() == "no model", 60)
    win.open_paths([str(folder)])
    view, ctl = win.inspect, win.controller
    wait(
        lambda: (
            len(ctl.entries) > 0 and all(e.prediction is not None or e.error for e in ctl.entries)
        ),
        60,
    )
    ctl.select(ctl.visible()[min(6, len(ctl.visible()) - 1)].path)
    wait(view.image_view.has_image, 10)
    ctl.toggle_class(5)  # a label decision, so the status shows in the gallery and panel
    view.explain.show_box.setChecked(True)
    msg = view.explain.message.text
    wait(
        lambda: (
            (view.image_view.overlay_visible() and "refining" not in msg())  # the final map
            or "unavailable" in msg()
            or "failed" in msg()
        ),
        120,
    )
    wait(lambda: len(view.thumbs) >= min(12, view.model.rowCount()), 10)
    for _ in range(20):
        qapp.processEvents()
        time.sleep(0.02)
    win.grab().save(str(OUT / "main.png"))
    print(f"saved {OUT / 'main.png'} ({view.explain.message.text()!r})")
    small(win, qapp)
    watched(win, qapp, folder, tmp, wait)
    QTimer.singleShot(0, win.close)
    qapp.processEvents()
    win.close()
    return 0


def open_window(ws: Path, model_dir: str, user: str, role: str, size=(1440, 860), **settings):
    """The real window on workspace ``ws``, shown at ``size``, with OUT ready.

    Returns ``(qapp, win, wait)``; ``wait(cond, seconds)`` pumps events until ``cond()`` holds or
    the time is up, and returns whether it holds.
    """
    from inspector.gui import app as gui_app
    from inspector.gui.settings import Settings

    Settings(user=user, role=role, **settings).save()
    qapp = gui_app.create_app()
    win = gui_app.build_window(ws, Settings.load(), model_dir)
    win.resize(*size)
    win.show()
    OUT.mkdir(parents=True, exist_ok=True)

    def wait(cond, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while not cond() and time.monotonic() < end:
            qapp.processEvents()
            time.sleep(0.02)
        return bool(cond())

    return qapp, win, wait


def settle(qapp, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.02)


def small(win, qapp) -> None:
    """The window at 1024x700 (a line PC's small screen): nothing may be cut off."""
    from inspector.gui.dialogs import ShortcutsDialog
    from inspector.gui.views.inspect import SHORTCUTS

    size = win.size()
    win.resize(1024, 700)
    settle(qapp)
    win.grab().save(str(OUT / "main-1024x700.png"))
    print(f"window at 1024x700 asked: {win.width()}x{win.height()}")
    rows = [(" / ".join(keys), text) for keys, _name, text in SHORTCUTS]
    dlg = ShortcutsDialog(rows, win)
    dlg.show()
    settle(qapp)
    dlg.grab().save(str(OUT / "shortcuts.png"))
    dlg.close()
    win.resize(size)
    print(f"saved {OUT / 'main-1024x700.png'} and {OUT / 'shortcuts.png'}")


def watched(win, qapp, folder: Path, tmp: Path, wait) -> None:
    """Watch a folder, drop three plates into it: the watched list, the alarm banner."""
    cam = tmp / "camera"
    cam.mkdir()
    win.watch(str(cam))
    for f in sorted(folder.glob("*.bmp"))[8:11]:
        shutil.copy(f, cam / f.name)
        time.sleep(0.1)
    ctl = win.controller
    wait(lambda: len(ctl.visible()) == 3 and all(e.prediction for e in ctl.visible()), 30)
    wait(lambda: win.inspect.image_view.has_image(), 10)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "watch.png"))
    print(f"saved {OUT / 'watch.png'} ({len(ctl.alarms)} alarms)")
    win.stop_watching()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(parent())
