"""Drive the top-loss view (F3) in the real window: a workspace with known labels and predictions
gives the expected order; Enter ("label is right") writes an event with user and role and the
plate leaves the queue; keys relabel in place; Ctrl+Z undoes; Ctrl+H shows and exports the
history; the File menu's identity dialog switches the user and role the labels are saved with."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from inspector.controllers.labels import LabelService
from inspector.domain import NEU_CLASSES, Prediction
from inspector.jobs import run
from inspector.store import LabelStore

#         crazing inclusion patches pitted rolled-in scratches
PROBS = {
    "inclusion_0": (0.02, 0.03, 0.02, 0.02, 0.02, 0.97),
    "crazing_1": (0.10, 0.80, 0.02, 0.02, 0.02, 0.02),
    "scratches_0": (0.02, 0.02, 0.02, 0.02, 0.02, 0.40),
    "crazing_0": (0.90, 0.05, 0.02, 0.02, 0.02, 0.02),
    "inclusion_1": (0.02, 0.95, 0.02, 0.02, 0.02, 0.02),
    "scratches_1": (0.02, 0.02, 0.02, 0.02, 0.02, 0.99),
}


@pytest.fixture()
def seeded(workspace: Path, make_imagefolder) -> Path:
    folder = make_imagefolder(per_class=2)
    importer = LabelService.open(workspace, user="importer", role="annotator")
    run(importer.import_dataset([str(folder)]))
    importer.close()
    with LabelStore.open(workspace) as s:
        s.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
        paths = {Path(p).stem: p for p, _ in s.training_snapshot()}
        s.add_predictions(
            Prediction(paths[k], NEU_CLASSES, v, (0.5,) * 6, "m1") for k, v in PROBS.items()
        )
    return workspace


def names(view) -> list[str]:
    m = view.model
    return [m.data(m.index(r, 1)).split(".")[0] for r in range(m.rowCount())]


def open_top_losses(qtbot, win):
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)  # keys go to the active window
    qtbot.keyClick(win.inspect, Qt.Key.Key_F3)
    view = win.top_losses
    assert win.views.currentWidget() is view
    qtbot.waitUntil(lambda: view.model.rowCount() == 6 and view.ctl.total == 6, timeout=10000)
    return view


def test_top_losses_order_confirm_relabel_undo(qtbot, make_window, seeded):
    win = make_window(user="ana", role="annotator")
    view = open_top_losses(qtbot, win)
    assert names(view) == list(PROBS)  # the expected top-loss order
    assert view.range_label.text() == "Page 1 · 1–6 of 6"
    m = view.model
    assert [m.data(m.index(0, c)) for c in (2, 3, 6)] == [
        "scratches",
        "inclusion",
        "importer (annotator)",
    ]
    qtbot.waitUntil(view.image_view.has_image)  # the selected plate, decoded off the GUI thread
    assert view.bars.summary() == "scratches 0.97"

    first = view.ctl.current_row().path
    qtbot.keyClick(view, Qt.Key.Key_Return)  # the label is right
    last = view.ctl.service.history(first)[-1]
    assert (last.user, last.role, last.labels, last.model_version) == (
        "ana",
        "annotator",
        ("inclusion",),
        "m1",
    )
    assert names(view) == list(PROBS)[1:]  # it left the queue; the next plate is selected
    assert view.table.selectionModel().selectedRows()[0].row() == 0

    second = view.ctl.current_row().path
    qtbot.keyClick(view, Qt.Key.Key_2)  # inclusion on: relabelled in place, still selected
    assert view.ctl.current_row().labels == ("crazing", "inclusion")
    assert "✓" in m.data(m.index(0, 1))
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo (hers)
    qtbot.waitUntil(lambda: not view.ctl.loading and view.ctl.total == 5)
    assert view.ctl.current_row().path == second
    assert view.ctl.service.history(second)[-1].kind == "undo"
    assert view.ctl.current_row().labels == ("crazing",)

    qtbot.keyClick(view, Qt.Key.Key_G)  # the same page as a grid of thumbnails
    assert view.lists.currentWidget() is view.grid
    assert view.grid.currentIndex().row() == view.ctl.current
    assert "loss" in m.data(view.grid.currentIndex())
    qtbot.keyClick(view, Qt.Key.Key_G)
    assert view.lists.currentWidget() is view.table

    # the view's keys do nothing while another view is shown
    qtbot.keyClick(win.top_losses, Qt.Key.Key_F2)
    assert win.views.currentWidget() is win.inspect
    qtbot.keyClick(win.inspect, Qt.Key.Key_3)
    assert view.ctl.service.history(second)[-1].kind == "undo"


def test_history_dialog_lists_the_decisions_and_exports_csv(qtbot, make_window, seeded, tmp_path):
    win = make_window(user="ana", role="annotator")
    view = open_top_losses(qtbot, win)
    path = view.ctl.current_row().path
    qtbot.keyClick(view, Qt.Key.Key_6)  # scratches on
    assert len(view.ctl.service.history(path)) == 2  # saved at once, options loaded or not
    out = tmp_path / "hist.csv"
    seen = {}

    def inspect_dialog():
        dlg = QApplication.activeModalWidget()
        seen["title"] = dlg.windowTitle()
        t = dlg.table
        seen["rows"] = [
            [t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())
        ]
        dlg.export(str(out))
        seen["status"] = dlg.status.text()
        dlg.reject()

    QTimer.singleShot(200, inspect_dialog)
    qtbot.keyClick(view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert seen["title"] == "Label history — inclusion_0.png"
    assert [r[1:6] for r in seen["rows"]] == [
        ["importer", "annotator", "import", "unlabelled", "inclusion"],
        ["ana", "annotator", "label", "inclusion", "inclusion, scratches"],
    ]
    assert seen["rows"][1][6] == "m1" and seen["rows"][1][7].startswith("scratches 0.97")
    assert seen["status"].startswith("Exported 2 entries")
    assert len(list(csv.reader(out.open(encoding="utf-8")))) == 3

    # Ctrl+H in the inspectors' view shows the history of the plate selected there
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert win.views.currentWidget() is win.inspect
    win.controller.add_paths([view.ctl.rows[1].path])
    qtbot.waitUntil(lambda: win.controller.current is not None)
    QTimer.singleShot(200, inspect_dialog)
    qtbot.keyClick(win.inspect, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert seen["title"] == "Label history — crazing_1.png"
    assert [r[1:4] for r in seen["rows"]] == [["importer", "annotator", "import"]]


def test_change_user_and_role_from_the_file_menu(qtbot, make_window, seeded):
    win = make_window(user="ana", role="annotator")
    view = open_top_losses(qtbot, win)

    def fill():
        dlg = QApplication.activeModalWidget()
        dlg.name.setText("bo")
        dlg.role.setCurrentText("inspector")
        dlg.buttons.accepted.emit()

    QTimer.singleShot(200, fill)
    assert win.ask_identity()
    assert win.user_label.text() == "bo (inspector)"
    qtbot.waitUntil(lambda: view.ctl.service is not None and view.ctl.service.user == "bo")
    qtbot.waitUntil(lambda: view.model.rowCount() == 6)
    path = view.ctl.current_row().path
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    last = view.ctl.service.history(path)[-1]
    assert (last.user, last.role) == ("bo", "inspector")


def test_becoming_supervisor_asks_the_pin(qtbot, make_window, seeded):
    from inspector.controllers.roles import hash_pin

    with LabelStore.open(seeded) as s:
        s.set_supervisor_pin_hash(hash_pin("4711"))
    win = make_window(user="ana", role="annotator")
    qtbot.waitUntil(lambda: win.service is not None)

    def enter_pin(pin: str):
        dlg = QApplication.activeModalWidget()
        dlg.pin.setText(pin)
        dlg.accept()

    def choose_supervisor(pin: str):
        dlg = QApplication.activeModalWidget()
        dlg.role.setCurrentText("supervisor")
        QTimer.singleShot(200, lambda: enter_pin(pin))
        dlg.buttons.accepted.emit()

    QTimer.singleShot(200, lambda: choose_supervisor("1234"))
    assert not win.ask_identity()
    assert win.user_label.text() == "ana (annotator)"
    assert "Wrong supervisor PIN" in win.statusBar().currentMessage()
    QTimer.singleShot(200, lambda: choose_supervisor("4711"))
    assert win.ask_identity()
    assert win.user_label.text() == "ana (supervisor)"
