"""Drive the inspection window as a user would: drop a folder, read probabilities, label with the
keyboard, undo, move on, restart on the same workspace and find the label with user and role."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def drop(win, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    win.dropEvent(ev)


def test_label_undo_move_and_persist(
    qtbot, make_window, make_imagefolder, tiny_model_dir, wait_scored, workspace
):
    folder = make_imagefolder(per_class=2)
    win = make_window(tiny_model_dir)
    assert win.inspect.stack.currentWidget() is win.inspect.welcome  # first run: welcome page
    qtbot.waitUntil(lambda: win.controller.predictor is not None, timeout=20000)
    assert "tiny-test" in win.model_label.text() and "CPU" in win.model_label.text()
    assert "ana (inspector)" in win.user_label.text()

    drop(win, folder)
    wait_scored(win, 6)
    view = win.inspect
    qtbot.waitUntil(lambda: win.controller.current is not None)
    first = win.controller.current
    assert view.bars.text_values()[0].startswith("crazing: ")
    assert "threshold 0.50" in view.values_text.text()
    assert "not labelled yet" in view.label_text.text()
    qtbot.waitUntil(view.image_view.has_image)

    # model's labels (none / some) ⊕ "crazing" via the digit key
    model_labels = set(win.controller.current_entry().prediction.labels)
    qtbot.keyClick(view, Qt.Key.Key_1)
    expected = tuple(
        c for c in ("crazing", "inclusion", "scratches") if c in model_labels ^ {"crazing"}
    )
    assert win.controller.current_entry().labels == expected
    assert "(saved)" in win.statusBar().currentMessage()

    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.controller.current_entry().labels is None
    qtbot.keyClick(
        view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert win.controller.current_entry().labels == expected

    # 0 = no defect on the first image, then the view moves on by itself
    qtbot.keyClick(view, Qt.Key.Key_0)
    assert win.controller.current != first
    second = win.controller.current
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert win.controller.current == first
    assert win.controller.current_entry().labels == ()
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert win.controller.current == second
    qtbot.keyClick(view, Qt.Key.Key_Return)  # accept the model's labels
    accepted = win.controller.entry(second)
    assert accepted.labels == accepted.prediction.labels
    assert accepted.status.value == "confirmed"
    win.close()

    # restart on the same workspace: labels, user and role are there
    win2 = make_window(tiny_model_dir)
    drop(win2, folder)
    wait_scored(win2, 6)
    assert win2.controller.entry(first).labels == ()
    hist = win2.service.history(first)
    assert [e.kind for e in hist] == ["label", "undo", "redo", "label"]
    assert {(e.user, e.role) for e in hist} == {("ana", "inspector")}
    assert hist[0].model_version == "tiny-test" and hist[0].probabilities
    win2.controller.select(first)
    assert "no defect" in win2.inspect.label_text.text()


def test_bad_file_goes_to_problems_list(
    qtbot, make_window, tmp_path, tiny_model_dir, make_imagefolder, wait_scored
):
    folder = make_imagefolder(classes=("crazing",), per_class=2)
    (folder / "crazing" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (folder / "crazing" / "empty.bmp").write_bytes(b"")
    win = make_window(tiny_model_dir)
    win.open_paths([str(folder)])
    wait_scored(win, 4)
    problems = win.problems.problems()
    assert len(problems) == 2, problems
    assert any(p.startswith("empty.bmp — ") and "empty" in p for p in problems)
    assert win.problems_dock.isVisible()
    assert sum(e.prediction is not None for e in win.controller.entries) == 2


def test_no_model_still_browse_and_label(qtbot, make_window, make_imagefolder, tmp_path):
    folder = make_imagefolder(classes=("crazing",), per_class=2)
    win = make_window(tmp_path / "no-such-model")
    qtbot.waitUntil(lambda: win.model_label.text() == "no model", timeout=10000)
    assert "No model" in win.statusBar().currentMessage()
    win.open_paths([str(folder)])
    qtbot.waitUntil(lambda: win.inspect.model.rowCount() == 2)
    qtbot.waitUntil(lambda: win.controller.current is not None)
    qtbot.keyClick(win.inspect, Qt.Key.Key_N)  # no defect, saved without a prediction
    path = win.controller.entries[0].path
    assert win.service.history(path)[-1].labels == ()


def test_filters_and_zoom(qtbot, make_window, make_imagefolder, tiny_model_dir, wait_scored):
    folder = make_imagefolder(per_class=2)
    win = make_window(tiny_model_dir)
    win.open_paths([str(folder)])
    wait_scored(win, 6)
    view = win.inspect
    qtbot.waitUntil(view.image_view.has_image)
    qtbot.keyClick(view, Qt.Key.Key_0)  # first image: no defect
    view.filter_status.setCurrentText("unlabelled")
    assert view.proxy.rowCount() == 5
    view.filter_status.setCurrentIndex(0)
    view.filter_label.setCurrentText("no defect")
    assert view.proxy.rowCount() == 1
    view.filter_label.setCurrentIndex(0)
    iv = view.image_view
    iv.actual_size()
    assert iv.zoom() == pytest.approx(1.0)
    iv.zoom_by(2.0)
    assert iv.zoom() == pytest.approx(2.0)
    iv.fit()
    assert iv.zoom() != pytest.approx(2.0)


def test_window_modules_import_no_torch_or_onnxruntime():
    code = (
        "import sys, inspector.gui.app, inspector.gui.main_window, inspector.gui.jobs;"
        "bad = [m for m in ('torch', 'onnxruntime', 'shap') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_heatmap_shows_a_first_look_then_the_refined_map_then_switches_class_from_cache(
    qtbot, make_window, make_imagefolder, tiny_model_dir, wait_scored, monkeypatch
):
    # the default heatmaps (SHAP over regions) run on the ONNX model: no torch needed
    drop_folder = make_imagefolder(per_class=1)
    win = make_window(tiny_model_dir)
    drop(win, drop_folder)
    wait_scored(win, 3)
    view = win.inspect
    qtbot.waitUntil(view.image_view.has_image)
    panel = view.explain
    shown: list[str] = []
    original = panel.set_message
    monkeypatch.setattr(panel, "set_message", lambda text: (shown.append(text), original(text)))

    qtbot.keyClick(view, Qt.Key.Key_H)  # the shortcut from F1's list
    cls = panel.current_class()
    qtbot.waitUntil(lambda: shown and shown[-1] == cls, timeout=60000)  # the final map
    qtbot.waitUntil(view.image_view.overlay_visible, timeout=10000)
    qtbot.waitUntil(lambda: view.image_view.contour_count() > 0, timeout=10000)  # outlined
    looks = [m for m in shown if "first look" in m]
    # regions: the first look is the coarse map after 60 of the 300 masked images
    assert looks and looks[0].startswith(
        f"{cls}: first look (60 masked images)"
    )  # before the final
    assert shown.index(looks[0]) < len(shown) - 1

    other = next(
        i for i in range(panel.class_combo.count()) if panel.class_combo.itemText(i) != cls
    )
    panel.class_combo.setCurrentIndex(other)  # all classes were computed: served from the cache
    qtbot.waitUntil(lambda: shown[-1].endswith("(cached)"), timeout=10000)
    assert shown[-1] == f"{panel.class_combo.itemText(other)} (cached)"
    assert panel.title() == "Explanation (SHAP · regions (Owen values))"  # the method is named

    def blue_pixels() -> int:
        img = view.image_view._overlay.pixmap().toImage()
        return sum(
            (c := img.pixelColor(x, y)).alpha() > 0 and c.blue() > c.red() + 40
            for y in range(0, img.height(), 2)
            for x in range(0, img.width(), 2)
        )

    qtbot.waitUntil(lambda: blue_pixels() > 0, timeout=10000)  # evidence against: blue
    qtbot.keyClick(view, Qt.Key.Key_P)  # evidence for the class only
    assert win.controller.positive_only
    qtbot.waitUntil(lambda: blue_pixels() == 0, timeout=10000)
    qtbot.keyClick(view, Qt.Key.Key_H)
    assert not view.image_view.overlay_visible()


def test_heatmaps_are_prepared_in_the_background_after_the_model(
    qtbot, make_window, make_imagefolder, tiny_model_dir, wait_scored
):
    pytest.importorskip("torch", reason="heatmaps need the train extra (torch)")
    win = make_window(tiny_model_dir, warm=True)
    panel = win.inspect.explain
    qtbot.waitUntil(lambda: panel.message.text().startswith("Heatmaps ready"), timeout=60000)
    assert win.controller.heatmaps_ready and not panel.progress.isVisible()
    drop(win, make_imagefolder(per_class=1))
    wait_scored(win, 3)
    qtbot.keyClick(win.inspect, Qt.Key.Key_H)
    qtbot.waitUntil(lambda: win.inspect.image_view.overlay_visible(), timeout=30000)


def test_import_a_labelled_folder_then_export_and_back_up_from_the_window(
    qtbot, make_window, make_imagefolder, tiny_model_dir, wait_scored, tmp_path
):
    import csv
    import sqlite3

    folder = make_imagefolder(per_class=2)  # crazing / inclusion / scratches, 2 each
    (folder / "crazing" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    win = make_window(tiny_model_dir)
    qtbot.waitUntil(lambda: win.service is not None, timeout=20000)
    said: list[str] = []
    win.data.done.connect(said.append)
    win.data.import_paths([str(folder)])
    qtbot.waitUntil(lambda: bool(said), timeout=30000)
    assert said[-1].startswith("Imported: 7 images (7 new), 7 labels written"), said
    assert "1 unreadable" in said[-1]
    assert any("broken.png" in p for p in win.problems.problems())
    wait_scored(win, 7)  # the imported folder is shown, with its labels
    crazing = next(e for e in win.controller.entries if e.name == "crazing_0.png")
    assert crazing.labels == ("crazing",) and crazing.status.value != "unlabelled"
    assert [e.user for e in win.service.history(crazing.path)] == ["ana"]

    out = tmp_path / "labels.csv"
    win.data.export_to("csv", str(out))
    qtbot.waitUntil(lambda: said[-1].startswith("Exported"), timeout=20000)
    rows = {Path(r["path"]).name: r["labels"] for r in csv.DictReader(out.open())}
    assert len(rows) == 7 and rows["crazing_0.png"] == "crazing"

    backup = tmp_path / "copy.db"
    win.data.backup_to(str(backup))
    qtbot.waitUntil(lambda: said[-1].startswith("Workspace backed up"), timeout=20000)
    with sqlite3.connect(backup) as db:
        assert db.execute("SELECT count(*) FROM images").fetchone()[0] == 7


def test_import_refuses_a_csv_with_conflicting_rows_and_writes_nothing(
    qtbot, make_window, make_imagefolder, tiny_model_dir, tmp_path
):
    folder = make_imagefolder(classes=("crazing",), per_class=1)
    img = next(folder.rglob("*.png"))
    bad = folder / "labels.csv"
    bad.write_text(
        f"path,labels\n{img.name if False else img.relative_to(folder)},crazing\n"
        f"{img.relative_to(folder)},inclusion\n"
    )
    win = make_window(tiny_model_dir)
    qtbot.waitUntil(lambda: win.service is not None, timeout=20000)
    said: list[str] = []
    win.data.done.connect(said.append)
    win.data.import_paths([str(bad)])
    qtbot.waitUntil(lambda: bool(said), timeout=20000)
    assert said[-1].startswith("Not done:") and "labels.csv" in said[-1]
    assert win.service.states([str(img)]) == {}
