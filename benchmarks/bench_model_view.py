"""Does the window stay responsive while a fine-tuning run trains? Event-loop stalls in the Model view.

A 5 ms QTimer ticks in the GUI process while the Model view's QProcess fine-tunes a workspace
(the real command; it parses every JSON line and redraws the curves). A stall is the time
between ticks beyond the 5 ms asked for. Run on an idle machine::

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_model_view.py WORKSPACE [--threads 2]

WORKSPACE: e.g. the one ``benchmarks/bench_finetune.py`` prints.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from inspector.controllers.finetune import ModelController
    from inspector.gui.views.model import ModelView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    c = ModelController(args.workspace, user="bench", role="supervisor")
    view = ModelView(c)
    view.resize(1280, 820)
    view.show()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    version = "stall-" + dt.datetime.now(dt.UTC).strftime("%H%M%S")
    view.runner.start("--threads", str(args.threads), "--version", version)
    timer.start()
    t0 = time.monotonic()
    while c.state.phase == "running" and time.monotonic() - t0 < 900:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    gaps = (np.diff(ticks) - 0.005) * 1000
    print(
        f"run {c.state.phase} ({c.state.candidate}), {len(ticks)} ticks over {time.monotonic() - t0:.0f} s\n"
    )
    print(f"| GUI event-loop stall while training (training --threads {args.threads}) | ms |")
    print("|---|---|")
    for name, v in (("median", 50), ("p99", 99), ("p99.9", 99.9)):
        print(f"| {name} | {np.percentile(gaps, v):.1f} |")
    print(f"| max | {gaps.max():.1f} |")
    print(f"| ticks late by more than 50 ms | {(gaps > 50).sum()} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
