"""GUI responsiveness benchmark: start-up, 10,000 images, heartbeat stalls, first thumbnails.

    .venv/bin/python benchmarks/bench_gui.py [--images 10000] [--seconds 20] [--model DIR]

Runs the real window (offscreen unless DISPLAY/QT_QPA_PLATFORM say otherwise) in this process:

* **start to window**: from the first line of this script (before PySide6 is imported) to the
  main window being exposed; ``torch`` must not be imported by then;
* **first thumbnails**: from asking to open a 10,000-image folder to the first screenful of
  thumbnails painted from the cache;
* **max stall**: a 10 ms heartbeat QTimer on the GUI thread records every gap while the folder is
  listed, all images scored, the gallery scrolled end to end and the current image switched every
  40 ms (each switch cancels the previous decode); the longest gap minus the period is the stall.

Images (64×64 PNG) are generated once into ``$TMPDIR/inspector-bench-<N>``; without ``--model``
and without ``models/default`` a tiny untrained model is exported there once (in a subprocess,
so torch never enters this process).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TARGETS = {"start to window (s)": 1.5, "first thumbnails (s)": 1.0, "max stall (ms)": 50.0}


def make_images(folder: Path, n: int) -> None:
    import cv2
    import numpy as np

    done = folder / ".complete"
    if done.is_file() and done.read_text() == str(n):
        return
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / f"batch{i // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        img = rng.normal(128, 18, (64, 64))
        img[:, (i * 7) % 60 : (i * 7) % 60 + 3] = 230
        cv2.imwrite(str(sub / f"plate_{i:05d}.png"), np.clip(img, 0, 255).astype("uint8"))
    done.write_text(str(n))


def ensure_model(cache: Path) -> Path:
    from inspector.registry import default_model_dir

    if (default_model_dir() / "model.onnx").is_file():
        return default_model_dir()
    out = cache / "tiny-model"
    if not (out / "model.onnx").is_file():
        repo = Path(__file__).resolve().parents[1]
        code = (
            f"import sys; sys.path.insert(0, {str(repo / 'tests')!r});"
            "from conftest import make_model_version; from pathlib import Path;"
            f"make_model_version(Path({str(out)!r}), size=64)"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=20.0, help="max time to run the session")
    ap.add_argument("--model", help="model version folder (default: models/default or a tiny one)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    cache = Path(tempfile.gettempdir()) / f"inspector-bench-{args.images}"
    if not args.child:  # prepare fixtures, then measure in a fresh process (clean start-up time)
        t = time.perf_counter()
        make_images(cache / "images", args.images)
        model = args.model or str(ensure_model(cache))
        print(f"fixtures ready in {time.perf_counter() - t:.1f} s (not timed)", flush=True)
        return subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--images",
                str(args.images),
                "--seconds",
                str(args.seconds),
                "--model",
                model,
            ]
        ).returncode
    tmp = Path(tempfile.mkdtemp(prefix="inspector-bench-ws-"))
    os.environ["INSPECTOR_CONFIG_DIR"] = str(tmp / "config")
    os.environ["INSPECTOR_NO_ERROR_DIALOG"] = "1"
    import logging

    logging.basicConfig(level=logging.WARNING, format="  log: %(message)s")

    # -- start-up: exactly what `inspector` does before app.exec() ---------------------------------
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtTest import QTest

    from inspector.gui import app as gui_app
    from inspector.gui.settings import Settings

    settings = Settings(user="bench", role="inspector")
    settings.save()
    t_imports = time.perf_counter() - T0
    qapp = gui_app.create_app()
    t_app = time.perf_counter() - T0
    model_dir = args.model
    win = gui_app.build_window(tmp / "ws", Settings.load(), model_dir)
    t_built = time.perf_counter() - T0
    win.show()
    QTest.qWaitForWindowExposed(win, 5000)
    t_window = time.perf_counter() - T0
    phases = (
        f"imports {t_imports:.2f}, QApplication {t_app - t_imports:.2f}, "
        f"window+store {t_built - t_app:.2f}, show {t_window - t_built:.2f} s"
    )
    torch_at_start = "torch" in sys.modules
    ort_at_start = "onnxruntime" in sys.modules

    # -- heartbeat -----------------------------------------------------------------------------------
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    long_gaps: list[tuple[float, float]] = []
    late_gaps: list[float] = []

    def beat() -> None:
        now = clock.nsecsElapsed()
        gap = (now - last[0]) / 1e6
        gaps.append(gap)
        t_rel = time.perf_counter() - t_open
        if t_rel > 1.0:
            late_gaps.append(gap)
        if gap > 60:
            long_gaps.append((t_rel, gap))
        last[0] = now

    hb = QTimer()
    hb.setInterval(10)
    hb.timeout.connect(beat)
    hb.start()

    view = win.inspect
    t_open = time.perf_counter()
    marks: dict[str, float] = {}
    win.open_paths([str(cache / "images")])
    deadline = t_open + args.seconds
    switch = QTimer()
    switch.setInterval(40)
    switch.timeout.connect(lambda: view.ctl.move(1))
    scroll_step = [0]

    def scroll() -> None:
        bar = view.gallery.verticalScrollBar()
        scroll_step[0] += 1
        bar.setValue(int(bar.maximum() * (scroll_step[0] % 21) / 20))

    scroller = QTimer()
    scroller.setInterval(150)
    scroller.timeout.connect(scroll)

    while time.perf_counter() < deadline:
        qapp.processEvents()
        time.sleep(0.002)
        now = time.perf_counter() - t_open
        n = view.model.rowCount()
        if "rows" not in marks and n >= args.images:
            marks["rows"] = now
        if "thumbs" not in marks and len(view.thumbs) >= min(12, args.images):
            marks["thumbs"] = now
            switch.start()
            scroller.start()
        if "switch_stop" not in marks and now > 6:
            marks["switch_stop"] = now
            switch.stop()
        scored = (
            view.ctl.entries
            and not view.ctl.pending
            and not win.runner.is_running("score")
            and view.ctl.predictor is not None
        )
        if (
            "scored" not in marks
            and n >= args.images
            and scored
            and all(e.prediction is not None or e.error for e in view.ctl.entries)
        ):
            marks["scored"] = now
            if now > 6:
                break
    hb.stop()
    switch.stop()
    scroller.stop()
    n_scored = sum(e.prediction is not None for e in view.ctl.entries)
    win.close()
    ok = win.runner.pool.activeThreadCount() == 0

    stalls = sorted(gaps)
    max_stall = max(0.0, stalls[-1] - 10.0) if stalls else float("nan")
    p99 = stalls[int(len(stalls) * 0.99)] - 10.0 if stalls else float("nan")
    rows = [
        (
            "start to window (s)",
            t_window,
            f"torch imported: {torch_at_start}, onnxruntime imported: {ort_at_start}",
        ),
        ("first thumbnails (s)", marks.get("thumbs", float("nan")), "first screenful cached"),
        ("max stall (ms)", max_stall, f"p99 {p99:.1f} ms over {len(gaps)} beats"),
        (
            "max stall after 1 s (ms)",
            max(0.0, max(late_gaps, default=10.0) - 10.0),
            "after the native libraries (ORT, OpenCV, PIL) are loaded",
        ),
        ("all rows listed (s)", marks.get("rows", float("nan")), f"{view.model.rowCount():,} rows"),
        (
            "all scored (s)",
            marks.get("scored", float("nan")),
            f"{n_scored:,} scored in the session",
        ),
    ]
    print(f"\nGUI benchmark: {args.images:,} images, model {model_dir}")
    print(f"(workers stopped cleanly: {ok}; start-up phases: {phases})")
    if long_gaps:
        worst = sorted(long_gaps, key=lambda g: -g[1])[:5]
        print(
            "(longest gaps at t+s: "
            + ", ".join(f"{t:.2f}s:{g:.0f}ms" for t, g in worst)
            + f"; marks {', '.join(f'{k} {v:.2f}' for k, v in marks.items())})"
        )
    print(
        f"(machine load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)\n"
    )
    print(f"| {'measure':<22} | {'value':>9} | {'target':>7} | {'pass':<4} | note")
    print(f"|{'-' * 24}|{'-' * 11}|{'-' * 9}|{'-' * 6}|------")
    failed = torch_at_start
    for name, value, note in rows:
        target = TARGETS.get(name)
        verdict = "" if target is None else ("yes" if value <= target else "NO")
        failed |= verdict == "NO"
        tgt = "" if target is None else f"{target:g}"
        print(f"| {name:<22} | {value:>9.3f} | {tgt:>7} | {verdict:<4} | {note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
