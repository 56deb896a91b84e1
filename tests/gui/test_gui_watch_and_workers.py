"""Watch-folder mode, the worker helper (stale results dropped, errors reported, cancel), settings
and the exception hook."""

from __future__ import annotations

import time

import cv2
from PySide6.QtCore import QObject

from inspector.domain import ImageLoadError, Progress
from inspector.jobs import Partial, check


def _plate(path, seed: int) -> None:
    import numpy as np

    img = np.random.default_rng(seed).normal(128, 15, (64, 64)).clip(0, 255).astype("uint8")
    cv2.imwrite(str(path), img)


def test_watch_folder_picks_up_new_files_newest_first(
    qtbot, make_window, tmp_path, tiny_model_dir, wait_scored
):
    cam = tmp_path / "camera"
    cam.mkdir()
    win = make_window(tiny_model_dir)
    qtbot.waitUntil(lambda: win.controller.predictor is not None, timeout=20000)
    win.watch(str(cam))
    assert "watching" in win.windowTitle()
    _plate(cam / "plate_001.png", 1)
    wait_scored(win, 1, timeout=10000)
    time.sleep(0.05)
    _plate(cam / "plate_002.png", 2)
    (cam / "notes.txt").write_text("not an image")
    wait_scored(win, 2, timeout=10000)
    names = [e.name for e in win.controller.entries]
    assert names == ["plate_002.png", "plate_001.png"]
    assert win.controller.current.endswith("plate_002.png")  # following the line
    # an alarm banner appears when a defect class is over threshold
    if any(e.alarm for e in win.controller.entries):
        assert win.inspect.alarm_bar.isVisible()
        n = sum(e.alarm for e in win.controller.entries)
        assert win.inspect.alarm_list.text().startswith(f"{n} alarm")
        assert "plate_00" in win.inspect.alarm.text()
    win.stop_watching()
    assert not win.inspect.watcher.active


def test_a_plate_written_in_two_steps_is_scored_not_lost(
    qtbot, make_window, tmp_path, tiny_model_dir, wait_scored
):
    """A camera that pauses mid-write: the half file is looked at again until it decodes."""
    cam = tmp_path / "camera"
    cam.mkdir()
    src = tmp_path / "whole.png"
    _plate(src, 7)
    data = src.read_bytes()
    win = make_window(tiny_model_dir)
    qtbot.waitUntil(lambda: win.controller.predictor is not None, timeout=20000)
    win.watch(str(cam))
    target = cam / "plate_two_steps.png"
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
        f.flush()
        qtbot.wait(900)  # longer than the watcher's settle time: it looks at the half file
        f.write(data[len(data) // 2 :])
    wait_scored(win, 1, timeout=15000)
    e = win.controller.entries[0]
    assert e.error is None and e.prediction is not None
    assert win.problems.count() == 0
    win.stop_watching()


def test_runner_drops_stale_results_and_reports_errors(qtbot):
    from inspector.gui.workers import Runner

    parent = QObject()
    runner = Runner(parent)
    got, errors, progress = [], [], []

    def work(value, delay, cancel):
        for i in range(int(delay / 0.01)):
            check(cancel)
            time.sleep(0.01)
            yield Progress(i, 10)
        yield Partial(f"{value} (first look)")
        return value

    results = []
    runner.submit("image", work, "old", 0.3, on_partial=got.append, on_result=results.append)
    runner.submit(
        "image",
        work,
        "new",
        0.05,
        on_partial=got.append,
        on_progress=progress.append,
        on_result=results.append,
    )
    qtbot.waitUntil(lambda: not runner.is_running("image"), timeout=5000)
    assert got == ["new (first look)"] and results == ["new"] and progress

    def bad(path, cancel):
        raise ImageLoadError(path, "the file is empty (0 bytes)")

    runner.submit("x", bad, "a.png", on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert isinstance(errors[0], ImageLoadError)
    assert runner.shutdown()


def test_runner_sends_bugs_to_the_one_handler_not_to_on_error(qtbot, monkeypatch):
    import sys

    from inspector.gui.workers import Runner

    hooked, errors = [], []
    monkeypatch.setattr(sys, "excepthook", lambda t, e, tb: hooked.append(e))
    parent = QObject()
    runner = Runner(parent)

    def buggy(cancel):
        return 1 / 0

    runner.submit("x", buggy, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(hooked), timeout=5000)
    assert isinstance(hooked[0], ZeroDivisionError) and errors == []
    assert runner.shutdown()


def test_identity_remembered_in_private_config(_private_settings):
    from inspector.gui.settings import Settings

    s = Settings.load()
    assert not s.has_identity
    s.user, s.role = "bo", "supervisor"
    s.save()
    assert (_private_settings / "settings.json").is_file()
    again = Settings.load()
    assert (again.user, again.role) == ("bo", "supervisor") and again.has_identity


def test_excepthook_expected_problem_goes_to_status_bar(qtbot, make_window, tmp_path):
    import sys

    from inspector.gui.app import install_excepthook, setup_logging

    win = make_window(tmp_path / "no-model")
    log_file = setup_logging(tmp_path / "ws")
    old = sys.excepthook
    try:
        install_excepthook(log_file)
        win.activateWindow()
        qtbot.waitUntil(lambda: win.isActiveWindow(), timeout=2000)
        sys.excepthook(ImageLoadError, ImageLoadError("x.png", "permission denied"), None)
        assert "permission denied" in win.statusBar().currentMessage()
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            sys.excepthook(RuntimeError, exc, exc.__traceback__)  # dialog suppressed in tests
        for h in __import__("logging").getLogger().handlers:
            h.flush()
        assert "boom" in log_file.read_text()
    finally:
        sys.excepthook = old
        import logging

        for h in list(logging.getLogger().handlers):
            if h.get_name() == "inspector-gui":
                logging.getLogger().removeHandler(h)
                h.close()


def test_a_burst_of_results_is_delivered_in_slices_with_the_loop_running_between(qtbot):
    """Thirty results that each take half a slice of GUI time arrive at once: they are delivered
    in order, a couple per event-loop turn, and the window's timers (repaints, keys) run between
    them instead of after all of them."""
    from PySide6.QtCore import QTimer

    from inspector.gui.workers import Runner

    parent = QObject()
    runner = Runner(parent)
    seen: list[str] = []
    gate = __import__("threading").Event()

    def burst(cancel):
        gate.wait(5)  # everything is produced at once, after the timer runs
        for i in range(30):
            yield Partial(i)

    order: list[int] = []

    def slow_callback(i: int) -> None:
        time.sleep(0.004)  # half of the 8 ms slice
        order.append(i)
        seen.append("item")

    tick = QTimer()
    tick.setInterval(0)
    tick.timeout.connect(lambda: seen.append("tick"))
    tick.start()
    runner.submit("x", burst, on_partial=slow_callback)
    gate.set()
    qtbot.waitUntil(lambda: seen.count("item") == 30, timeout=10000)
    tick.stop()
    first, last = seen.index("item"), len(seen) - 1 - seen[::-1].index("item")
    assert "tick" in seen[first:last]  # the loop ran other timers while the burst drained
    assert order == list(range(30))  # in order, none lost
    assert runner.shutdown()
