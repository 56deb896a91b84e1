"""Screenshots of the Model view (F6) during a real fine-tuning run and after it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots_model.py WORKSPACE

WORKSPACE: e.g. the one ``benchmarks/bench_finetune.py`` prints. Writes
``docs/screenshots/model-training.png`` and ``docs/screenshots/model-after.png``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from inspector.controllers.finetune import ModelController
    from inspector.gui.views.model import ModelView

    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: screenshots_model.py WORKSPACE (a workspace folder with labels and a model)")
        return 2
    ws = Path(sys.argv[1])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    c = ModelController(ws, user="eva", role="supervisor")
    view = ModelView(c)
    view.resize(1280, 820)
    view.show()
    out = REPO / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    version = "shot-" + dt.datetime.now(dt.UTC).strftime("%H%M%S")
    view.runner.start("--threads", "2", "--version", version)

    def wait(cond, seconds):
        end = time.monotonic() + seconds
        while not cond() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.05)

    wait(lambda: len(c.state.curve) >= 2 or c.state.phase != "running", 600)
    view.grab().save(str(out / "model-training.png"))
    wait(lambda: c.state.phase != "running", 600)
    app.processEvents()
    view.grab().save(str(out / "model-after.png"))
    print(c.state.phase, c.state.candidate)
    return 0 if c.state.phase == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
