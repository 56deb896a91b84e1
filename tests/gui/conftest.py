"""GUI test fixtures: private settings and workspace per test, a window factory, and a check
that fails any test leaving worker threads running."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("pytestqt", reason="pytest-qt is a dev dependency")


@pytest.fixture(autouse=True)
def _private_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never read or write the real user's settings or workspace."""
    cfg = tmp_path / "config"
    monkeypatch.setenv("INSPECTOR_CONFIG_DIR", str(cfg))
    monkeypatch.setenv("INSPECTOR_WORKSPACE", str(tmp_path / "default-ws"))
    monkeypatch.setenv("INSPECTOR_NO_ERROR_DIALOG", "1")
    monkeypatch.delenv("INSPECTOR_MODEL", raising=False)
    return cfg


def _python_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}


@pytest.fixture(autouse=True)
def _no_leaked_threads(qapp):
    from PySide6.QtCore import QThreadPool

    from inspector.gui.workers import active_worker_threads

    before = _python_threads()
    yield
    deadline = time.monotonic() + 3.0
    while True:
        qapp.processEvents()
        leaked = _python_threads() - before
        busy = active_worker_threads() + QThreadPool.globalInstance().activeThreadCount()
        if not leaked and busy == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"test left threads running: {busy} Qt worker(s), "
                f"python threads {[t.name for t in leaked]}"
            )
        time.sleep(0.02)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture()
def make_window(qtbot, workspace: Path):
    """Factory: a shown MainWindow on ``workspace`` for user 'ana' (inspector); closed after."""
    from inspector.gui.app import build_window
    from inspector.gui.settings import Settings

    windows = []

    def make(model_dir=None, ws: Path | None = None, user="ana", role="inspector", warm=False):
        # torch is loaded ahead for heatmaps only where a test asks for it (seconds per window)
        settings = Settings(user=user, role=role, prepare_heatmaps=warm)
        settings.save()
        win = build_window(ws or workspace, Settings.load(), str(model_dir) if model_dir else None)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        win.activateWindow()
        windows.append(win)
        return win

    yield make
    for w in windows:
        w.close()


@pytest.fixture()
def wait_scored(qtbot):
    """wait_scored(win, n): until ``n`` images are in the gallery, each scored or unreadable."""

    def wait(win, n: int, timeout: int = 20000) -> None:
        def done() -> bool:
            rows = win.controller.entries
            return len(rows) == n and all(e.prediction is not None or e.error for e in rows)

        qtbot.waitUntil(done, timeout=timeout)

    return wait
