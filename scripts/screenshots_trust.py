"""Screenshots for issue 16 under Xvfb: docs/screenshots/unfamiliar-badge.png (the inspectors'
view on an unfamiliar plate) and docs/screenshots/reliability.png (the metrics view with the
per-class reliability diagrams), with the real NEU plates and the shipped model.

    .venv/bin/python scripts/screenshots_trust.py

The workspace is seeded as in screenshots_supervisor.py (NEU-CLS imported as ground truth, 300
decisions, every plate scored). A model without unfamiliar-plate statistics gives no score; then
the one odd plate (a NEU plate turned into something no training plate looks like) gets a score
of 9.1 over a threshold of 2.0 here, so the badge can be seen before such a model ships.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _xvfb import run_child
from screenshots import OUT, open_window, settle

ODD = "odd_plate.png"


def parent() -> int:
    return run_child(__file__, "inspector-shots-trust-")


class ScoreOdd:
    """The loaded predictor; a prediction without an unfamiliar score gets one (see above)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def predict_paths(self, paths: Iterable[str], batch_size: int = 32) -> Iterator[Any]:
        from inspector.domain import Prediction

        for item in self.inner.predict_paths(paths, batch_size=batch_size):
            if isinstance(item, Prediction) and item.unfamiliar is None:
                odd = Path(item.path).name == ODD
                item = dataclasses.replace(
                    item, unfamiliar=9.1 if odd else 0.8, unfamiliar_threshold=2.0
                )
            yield item


def plates(tmp: Path) -> Path:
    """A dozen NEU plates and one odd one (inverted, tiled, rotated: unlike any NEU plate)."""
    import cv2
    import numpy as np
    from screenshots_supervisor import NEU

    out = tmp / "plates"
    out.mkdir()
    for cls in sorted(p for p in NEU.iterdir() if p.is_dir()):
        for f in sorted(cls.iterdir())[10:12]:
            shutil.copy(f, out / f.name)
    src = cv2.imread(str(sorted((NEU / "patches").iterdir())[3]), cv2.IMREAD_GRAYSCALE)
    half = cv2.resize(255 - src, (src.shape[1] // 2, src.shape[0] // 2))
    odd = np.vstack([np.hstack([half, half.T[: half.shape[0], : half.shape[1]]])] * 2)
    cv2.imwrite(str(out / ODD), cv2.rotate(odd, cv2.ROTATE_90_CLOCKWISE))
    return out


def child(tmp: Path) -> int:
    from screenshots import model
    from screenshots_supervisor import seed

    model_dir = model(tmp)
    ws = tmp / "ws"
    seed(ws, model_dir)
    folder = plates(tmp)
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    qapp, win, wait = open_window(
        ws, model_dir, user="Sam Reyes", role="supervisor", prepare_heatmaps=False
    )

    ctl, view = win.controller, win.inspect
    wait(lambda: ctl.predictor is not None, 60)
    ctl.set_predictor(ScoreOdd(ctl.predictor), ctl.model_dir)
    win.open_paths([str(folder)])
    wait(lambda: len(ctl.entries) == 13 and all(e.prediction for e in ctl.entries), 60)
    ctl.select(next(e.path for e in ctl.entries if e.name == ODD))
    wait(view.image_view.has_image, 10)
    wait(lambda: len(view.thumbs) >= 12, 10)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "unfamiliar-badge.png"))
    print(f"saved {OUT / 'unfamiliar-badge.png'} (badge: {view.badge.isVisible()})")

    win.activateWindow()
    settle(qapp, 0.3)
    QTest.keyClick(win, Qt.Key.Key_F5)
    mv, sup = win.supervisor.metrics_view, win.supervisor
    if win.views.currentWidget() is not mv:  # no window manager: the key may not arrive
        win.views.setCurrentWidget(mv)
    wait(lambda: sup.metrics.state.evaluation is not None, 60)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "reliability.png"))
    ev = sup.metrics.state.evaluation
    print(
        f"saved {OUT / 'reliability.png'} ({ev.n} plates; ECE "
        + ", ".join(f"{c.name} {c.ece:.3f}" for c in ev.curves)
        + ")"
    )
    win.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(parent())
