"""Supervisors' views benchmark: the sign-off queue on 100,000 images, metrics on 10,000.

    .venv/bin/python benchmarks/bench_review.py [--images 100000] [--human 10000]

Builds (once, cached in ``$TMPDIR/inspector-bench-review-<N>``) a workspace of ``--images``
synthetic plates (no files, no decoding): every plate imported with a label, ``--human`` of them
relabelled by two inspectors (the "labelled in the app" image set the metrics view measures),
and a prediction per plate from one active model, ~10 % of them doubtful. Written through the
store's own table functions in one transaction, and ``add_predictions`` (one transaction).

Then the real window (offscreen unless DISPLAY/QT_QPA_PLATFORM say otherwise) opens on it as a
supervisor, with a 10 ms heartbeat QTimer on the GUI thread, and times:

* **queue first page**: asking the queue (F4) for its first page, with and without filters, to
  the rows being in the table (read in a worker, shown on the GUI thread);
* **paging / scrolling**: 30 next / previous pages and scrolling the table, with the longest
  heartbeat gap minus its period as the **max stall**;
* **metrics draw**: measuring the model on the 10,000 human-labelled plates (read, curves,
  plot setData, numbers) to the view painted;
* **slider move**: one threshold slider step to its point, row and pairs updated and painted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {
    "queue first page (ms)": 300.0,
    "queue first page, filtered (ms)": 300.0,
    "page turn (ms)": 300.0,
    "max stall (ms)": 50.0,
    "metrics draw (ms)": 500.0,
    "slider move, p50 (ms)": 30.0,
    "slider move, max (ms)": 30.0,
}


def build(ws: Path, n: int, human: int) -> None:
    """The synthetic workspace (see the module docstring); skipped when already built."""
    import numpy as np

    from inspector.domain import NEU_CLASSES, LabelStatus, Prediction
    from inspector.store import LabelStore, events, images
    from inspector.store.classes import ClassIndex
    from inspector.store.images import FileFacts
    from inspector.store.records import EventKind

    done = ws / ".complete"
    if done.is_file() and done.read_text() == f"{n},{human}":
        return
    shutil.rmtree(ws, ignore_errors=True)
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    store = LabelStore.open(ws)
    store.register_model("bench-model", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    truth = rng.integers(0, 6, n)
    with store.transaction() as conn:
        idx = ClassIndex(conn)
        ids = idx.ids_of(NEU_CLASSES)
        for i in range(n):
            iid = images.insert_image(
                conn, f"/line/2026/plate_{i:06d}.bmp", FileFacts(missing=True), "bench"
            )
            k = int(truth[i])
            events.append(
                conn, iid, EventKind.IMPORT, [ids[k]], user="import", role="annotator",
                status=LabelStatus.CONFIRMED, reviewed=True,
            )  # fmt: skip
            if i % (n // human) == 0:
                events.append(
                    conn, iid, EventKind.LABEL, [ids[k]], user=("ana", "bob")[i % 2],
                    role="inspector", status=LabelStatus.CONFIRMED, reviewed=True,
                )  # fmt: skip
    probs = rng.uniform(0.0, 0.25, (n, 6))
    probs[np.arange(n), truth] = rng.uniform(0.62, 0.99, n)
    doubtful = rng.random(n) < 0.1
    probs[doubtful, truth[doubtful]] = rng.uniform(0.41, 0.59, int(doubtful.sum()))
    wrong = rng.random(n) < 0.02  # some confident mistakes, so the curves are not perfect
    probs[wrong, (truth[wrong] + 1) % 6] = rng.uniform(0.5, 0.9, int(wrong.sum()))
    store.add_predictions(
        Prediction(
            f"/line/2026/plate_{i:06d}.bmp", NEU_CLASSES, tuple(probs[i]), (0.5,) * 6, "bench-model"
        )
        for i in range(n)
    )
    print(
        f"built {n:,} images in {time.perf_counter() - t:.1f} s: queue {store.signoff_count():,},"
        f" human-labelled {store.scored(None, 'human')[1].shape[0]:,} (not timed)",
        flush=True,
    )
    store.close()
    done.write_text(f"{n},{human}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--human", type=int, default=10_000)
    ap.add_argument("--pages", type=int, default=30)
    args = ap.parse_args()
    ws = Path(tempfile.gettempdir()) / f"inspector-bench-review-{args.images}"
    build(ws, args.images, args.human)
    tmp = Path(tempfile.mkdtemp(prefix="inspector-bench-review-cfg-"))
    os.environ["INSPECTOR_CONFIG_DIR"] = str(tmp)
    os.environ["INSPECTOR_NO_ERROR_DIALOG"] = "1"

    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from inspector.controllers.review_queue import PAGE_SIZE, day_bounds
    from inspector.controllers.supervision import QueueFilter
    from inspector.gui import app as gui_app
    from inspector.gui.settings import Settings

    Settings(user="sue", role="supervisor", prepare_heatmaps=False).save()
    qapp = QApplication.instance() or gui_app.create_app()
    win = gui_app.build_window(ws, Settings.load(), os.environ.get("INSPECTOR_MODEL"))
    win.resize(1440, 860)
    win.show()
    sup = win.supervisor
    queue, review, metrics, mview = sup.queue, sup.review_view, sup.metrics, sup.metrics_view

    def spin(cond, seconds: float = 60.0) -> None:
        end = time.perf_counter() + seconds
        while not cond():
            if time.perf_counter() > end:
                raise SystemExit(f"timed out: {win.statusBar().currentMessage()!r} {queue.total}")
            qapp.processEvents()
            time.sleep(0.001)

    spin(lambda: queue.total > 0)  # the store is open and the queue counted (not timed)
    win.views.setCurrentWidget(review)
    for _ in range(20):
        qapp.processEvents()

    # -- heartbeat -------------------------------------------------------------------------------
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def beat() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    hb = QTimer()
    hb.setInterval(10)
    hb.timeout.connect(beat)
    hb.start()

    shown = [0]
    queue.page_changed.connect(lambda *_: shown.__setitem__(0, shown[0] + 1))

    def timed_page(action) -> float:
        before = shown[0]
        t0 = time.perf_counter()
        action()
        spin(lambda: shown[0] > before)
        qapp.processEvents()  # the table repaints
        return (time.perf_counter() - t0) * 1000

    first = [timed_page(queue.refresh) for _ in range(5)]
    filtered = [
        timed_page(lambda: queue.set_filter(QueueFilter(user="ana"))),
        timed_page(lambda: queue.set_filter(QueueFilter(since=day_bounds(None, None)[0]))),
        timed_page(lambda: queue.set_filter(QueueFilter(user="bob", until="2999-01-01T00:00:00"))),
    ]
    timed_page(lambda: queue.set_filter(QueueFilter()))
    turns = []
    half = min(args.pages // 2, (queue.total - 1) // PAGE_SIZE)
    for i in range(2 * half):
        turns.append(timed_page(queue.next_page if i < half else queue.previous_page))
    bar = review.table.verticalScrollBar()
    for v in range(0, bar.maximum() + 1, max(1, bar.maximum() // 40)):
        bar.setValue(v)
        queue.move(1)
        qapp.processEvents()
    queue_gaps = list(gaps)

    # -- metrics ---------------------------------------------------------------------------------
    win.views.setCurrentWidget(mview)
    spin(lambda: metrics.state.evaluation is not None)  # the first measure on showing (warm-up)
    draws = []
    for _ in range(3):
        done = [False]

        def mark(_ev, done=done) -> None:
            done[0] = True

        metrics.evaluated.connect(mark)
        t0 = time.perf_counter()
        metrics.evaluate(None, "human")
        spin(lambda done=done: done[0])
        mview.repaint()
        qapp.processEvents()
        draws.append((time.perf_counter() - t0) * 1000)
        metrics.evaluated.disconnect(mark)
    n_scored = metrics.state.evaluation.n
    moves = []
    slider = mview.rows[1].slider
    settle_until = time.perf_counter() + 0.2  # a person drags a slider after the view drew
    while time.perf_counter() < settle_until:
        qapp.processEvents()
        time.sleep(0.005)
    for v in list(range(200, 800, 12)) + list(range(800, 200, -12)):
        t0 = time.perf_counter()
        slider.setValue(v)  # the signal runs the controller and the view's slots
        qapp.processEvents()  # ... and Qt repaints what changed: the point, the row, the pairs
        moves.append((time.perf_counter() - t0) * 1000)
    hb.stop()

    all_gaps = sorted(queue_gaps)
    max_stall = max(0.0, all_gaps[-1] - 10.0) if all_gaps else float("nan")
    p99 = all_gaps[int(len(all_gaps) * 0.99)] - 10.0 if all_gaps else float("nan")
    rows = [
        ("queue first page (ms)", statistics.median(first), f"median of 5; max {max(first):.0f}"),
        ("queue first page, filtered (ms)", max(filtered), "worst of user / date / both"),
        (
            "page turn (ms)",
            statistics.median(turns),
            f"median of {len(turns)}; max {max(turns):.0f}",
        ),
        ("max stall (ms)", max_stall, f"p99 {p99:.1f} ms over {len(all_gaps)} beats"),
        ("metrics draw (ms)", statistics.median(draws), f"{n_scored:,} scored plates, median of 3"),
        ("slider move, p50 (ms)", statistics.median(moves), f"{len(moves)} moves"),
        (
            "slider move, max (ms)",
            max(moves),
            f"p95 {sorted(moves)[int(len(moves) * 0.95)]:.1f} ms; worst was move "
            f"#{moves.index(max(moves)) + 1}",
        ),
    ]
    print(
        f"\nSupervisors' views: {args.images:,} images, queue {queue.total:,} doubtful decisions,"
        f" metrics on {n_scored:,} human-labelled plates"
    )
    print(f"| {'measure':<32} | {'value':>8} | {'target':>6} | {'pass':<4} | note")
    print(f"|{'-' * 34}|{'-' * 10}|{'-' * 8}|{'-' * 6}|------")
    for name, value, note in rows:
        tgt = TARGETS[name]
        verdict = "yes" if value <= tgt else "NO"
        print(f"| {name:<32} | {value:>8.1f} | {tgt:>6.0f} | {verdict:<4} | {note}")
    win.close()
    qapp.processEvents()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
