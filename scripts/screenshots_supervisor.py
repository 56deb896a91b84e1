"""Screenshots of the supervisors' views under Xvfb: docs/screenshots/review-queue.png and
docs/screenshots/metrics.png, with the real NEU plates scored by the shipped model.

    .venv/bin/python scripts/screenshots_supervisor.py

A throw-away workspace: the NEU-CLS folder is imported as labelled ground truth (the
"evaluation set"; the images are read where they are, never copied), 300 plates get a person's
decision (two inspectors), every plate is scored by the shipped model, one decision is signed
off, and a supervisor opens the sign-off queue (F4, with the heatmap of the first item) and
the metrics view (F5, with one threshold dragged).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _xvfb import run_child
from screenshots import OUT, REPO, open_window, settle

NEU = REPO.parent / "shared" / "data" / "neu-cls"


def parent() -> int:
    return run_child(__file__, "inspector-shots-sup-")


def seed(ws: Path, model_dir: str) -> None:
    """Import NEU-CLS, let two inspectors decide on 300 plates, score everything."""
    import numpy as np

    from inspector.jobs import run
    from inspector.runtime.ort import OrtPredictor
    from inspector.store import LabelStore
    from inspector.store.importers import iter_import
    from inspector.store.predictions import DEFAULT_BAND, DEFAULT_NONE_OVER_BAND
    from inspector.store.scoring import doubt

    t0 = time.monotonic()
    store = LabelStore.open(ws)
    run(iter_import(store, [NEU], fmt="imagefolder", user="dataset import", role="annotator"))
    pred = OrtPredictor(model_dir, threads=2)
    store.register_model(
        pred.version, classes=pred.classes, thresholds=pred.thresholds, path=model_dir
    )
    store.set_model_status(pred.version, "active")
    paths = [r.path for r in store.page(limit=5000)]
    preds = [p for p in pred.predict_paths(paths) if not isinstance(p, Exception)]
    store.add_predictions(preds)
    rng = np.random.default_rng(7)
    by_path = {p.path: p for p in preds}
    people = ("Ana Silva", "Ben Okafor")
    # the people decide mostly on plates the model was unsure about, and some at random
    doubtful = sorted(
        preds,
        key=lambda p: doubt(
            p.probabilities, p.thresholds, band=DEFAULT_BAND, none_over_band=DEFAULT_NONE_OVER_BAND
        ),
    )
    chosen = [p.path for p in doubtful[:150]] + list(rng.choice(paths, 150, replace=False))
    for i, path in enumerate(dict.fromkeys(chosen)):
        p = by_path.get(path)
        labels = list(store.labels(path) or ())
        if i % 23 == 5 and p is not None:  # now and then someone takes the model's word
            labels = list(p.labels)
        store.set_labels(path, labels, user=people[i % 2], role="inspector", seen=p)
    first = store.signoff_queue(limit=1)
    if first:
        store.review(first[0].path, "approve", user="Sam Reyes")
    print(
        f"seeded {len(paths)} plates, {len(preds)} scored, queue {store.signoff_count()} "
        f"in {time.monotonic() - t0:.1f} s"
    )
    store.close()


def child(tmp: Path) -> int:
    from screenshots import model

    model_dir = model(tmp)
    ws = tmp / "ws"
    seed(ws, model_dir)
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    qapp, win, wait = open_window(
        ws, model_dir, user="Sam Reyes", role="supervisor", prepare_heatmaps=False
    )

    sup = win.supervisor
    wait(lambda: win.controller.predictor is not None, 60)
    wait(lambda: sup.queue.total > 0, 20)
    win.activateWindow()
    settle(qapp, 0.3)
    QTest.keyClick(win, Qt.Key.Key_F4)
    view = sup.review_view
    if win.views.currentWidget() is not view:  # no window manager: the key may not arrive
        win.views.setCurrentWidget(view)
    wait(lambda: view.image_view.has_image(), 10)
    sup.queue.move(2)
    wait(lambda: view.image_view.has_image(), 10)
    view.toggle_heatmap()  # the H key
    note = view.heatmap_note.text
    wait(lambda: view.image_view.overlay_visible() or "needs" in note(), 120)
    wait(lambda: "first look" not in note(), 60)
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "review-queue.png"))
    print(
        f"saved {OUT / 'review-queue.png'} (queue {sup.queue.total}, {view.heatmap_note.text()!r})"
    )

    bands(view, qapp)
    report(win, view, tmp, wait, qapp)
    QTest.keyClick(win, Qt.Key.Key_F5)
    mv = sup.metrics_view
    if win.views.currentWidget() is not mv:
        win.views.setCurrentWidget(mv)
    wait(lambda: sup.metrics.state.evaluation is not None, 60)
    mv.set_combo.setCurrentIndex(mv.set_combo.findData("human"))  # the 300 decided in the app
    mv.measure()
    wait(lambda: sup.metrics.state.evaluation.image_set == "human", 60)
    settle(qapp, 0.5)
    mv.rows[5].slider.setValue(round(mv.rows[5].slider.value() * 0.6))  # scratches, dragged down
    mv.reason.setText("catch more faint scratches")
    settle(qapp, 1.0)
    win.grab().save(str(OUT / "metrics.png"))
    print(f"saved {OUT / 'metrics.png'} ({mv.summary.text()[:80]!r})")
    win.close()
    return 0


def bands(view, qapp) -> None:
    """The "Queue bands…" dialog as a supervisor sees it, for the plate on screen."""
    from inspector.gui.widgets.bands_dialog import BandsDialog

    item = view.ctl.current
    dlg = BandsDialog(*view.ctl.bands, list(item.thresholds.items()), view)
    dlg.show()
    settle(qapp, 0.5)
    dlg.grab().save(str(OUT / "queue-bands.png"))
    print(f"saved {OUT / 'queue-bands.png'}")
    dlg.close()


def report(win, view, tmp: Path, wait, qapp) -> None:
    """Sign off a few decisions, write the shift's report; its first page as a PNG (needs
    pdftoppm from poppler-utils; skipped without it)."""
    from inspector.gui.views.review_queue import ReportDialog

    ctl = win.supervisor.queue
    for i in range(5):
        if i == 2:
            labels = sorted({*(ctl.current.labels or ()), "rolled-in_scale"})
            ctl.override(labels, "second look under the lamp: rolled-in scale as well")
        else:
            ctl.approve()
    pdf = tmp / "signoff.pdf"
    view.write_report(*ReportDialog(view).bounds(), str(pdf))
    wait(lambda: "Sign-off report:" in view.feedback.text(), 60)
    print(f"report: {view.feedback.text()}")
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "100", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
             str(OUT / "signoff-report")],
            check=True,
        )  # fmt: skip
        print(f"saved {OUT / 'signoff-report.png'}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child(Path(sys.argv[2])))
    sys.exit(parent())
