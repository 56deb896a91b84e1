"""The supervisors' views in the real window: the sign-off queue (F4) and metrics (F5)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from sklearn import metrics as skm

from inspector.store import LabelStore
from tests.supervisor_data import MODEL, seed


@pytest.fixture()
def seeded(workspace: Path) -> dict:
    with LabelStore.open(workspace) as store:
        return seed(store, 60)  # 12 doubtful decisions


def open_window(qtbot, make_window, tiny_model_dir, role: str, user: str):
    win = make_window(tiny_model_dir, user=user, role=role)
    qtbot.waitUntil(lambda: win.controller.predictor is not None, timeout=20000)
    qtbot.waitUntil(lambda: win.supervisor.queue.total == 12, timeout=5000)
    return win


def test_supervisor_approves_overrides_and_reports(
    qtbot, make_window, tiny_model_dir, seeded, workspace, tmp_path
):
    win = open_window(qtbot, make_window, tiny_model_dir, "supervisor", "sue")
    view, ctl = win.supervisor.review_view, win.supervisor.queue
    assert win.supervisor.count_label.text() == "sign-off queue: 12"
    qtbot.keyClick(win, Qt.Key.Key_F4)
    assert win.views.currentWidget() is view
    assert view.table_model.rowCount() == 12 and "of 12" in view.page_label.text()
    first = ctl.current
    assert first.labelled_by in view.info.text() and MODEL in view.info.text()

    qtbot.keyClick(view.table, Qt.Key.Key_A)  # approve
    assert ctl.total == 11 and win.supervisor.count_label.text() == "sign-off queue: 11"
    assert "approved by sue" in view.feedback.text()

    # override: without a reason it is refused, with one it is stored
    second = ctl.current
    view.class_checks[5].setChecked(True)  # scratches
    qtbot.mouseClick(view.override_btn, Qt.MouseButton.LeftButton)
    assert "needs a reason" in view.feedback.text() and ctl.total == 11
    qtbot.keyClicks(view.reason, "scratch under the scale")
    qtbot.mouseClick(view.override_btn, Qt.MouseButton.LeftButton)
    assert ctl.total == 10
    with LabelStore.open(workspace) as store:
        assert [r.decision for r in store.reviews(first.path)] == ["approve"]
        (ov,) = store.reviews(second.path)
        assert ov.decision == "override" and ov.reason == "scratch under the scale"
        assert "scratches" in store.labels(second.path)

    # the sign-off report: CSV and a PDF with one row per decision
    from inspector.gui.views.review_queue import ReportDialog

    pdf = tmp_path / "signoff.pdf"
    view.write_report(*ReportDialog(view).bounds(), str(pdf))  # default: this shift
    qtbot.waitUntil(lambda: "Sign-off report: 2 decisions" in view.feedback.text(), timeout=10000)
    assert pdf.read_bytes().startswith(b"%PDF")
    rows = list(csv.DictReader(pdf.with_suffix(".csv").open()))
    assert [r["decision"] for r in rows] == ["approve", "override"]
    from pypdf import PdfReader

    text = " ".join(" ".join(pg.extract_text() for pg in PdfReader(pdf).pages).split())
    assert "2 decisions" in text
    for r in rows:
        assert text.count(Path(r["image"]).name) == 1
    assert "scratch under the scale" in text


def test_metrics_curves_equal_scikit_learns_and_a_saved_revision_refags_the_queue(
    qtbot, make_window, tiny_model_dir, seeded, workspace
):
    win = open_window(qtbot, make_window, tiny_model_dir, "supervisor", "sue")
    view, ctl = win.supervisor.metrics_view, win.supervisor.metrics
    qtbot.keyClick(win, Qt.Key.Key_F5)
    assert win.views.currentWidget() is view
    qtbot.waitUntil(lambda: ctl.state.evaluation is not None, timeout=10000)
    assert "60" in view.summary.text() and "macro AP" in view.summary.text()

    with LabelStore.open(workspace) as store:
        _, y, p = store.scored(MODEL)
    for k in range(6):
        x_rec, y_prec = view.pr_curves[k].getData()
        sp, sr, _ = skm.precision_recall_curve(y[:, k], p[:, k], drop_intermediate=False)
        np.testing.assert_allclose(x_rec, sr)
        np.testing.assert_allclose(y_prec, sp)
        assert float(view.rows[k].ap.text()) == pytest.approx(
            skm.average_precision_score(y[:, k], p[:, k]), abs=5e-4
        )

    # drag crazing's threshold down: its point moves to recall 1 on the PR curve
    view.rows[0].slider.setValue(300)
    rx, _ = view.pr_points[0].getData()
    assert rx[0] == pytest.approx(skm.recall_score(y[:, 0], p[:, 0] >= 0.3))
    assert "R 1.000" in view.rows[0].numbers.text()
    for k in range(1, 6):
        view.rows[k].slider.setValue(300)
    qtbot.keyClicks(view.reason, "no doubtful plate at 0.3")
    qtbot.mouseClick(view.save_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Saved threshold revision 2" in view.feedback.text(), timeout=5000)
    assert "rev 2" in view.revisions.text() and "0.50 → 0.30" in view.revisions.text()
    qtbot.waitUntil(lambda: win.supervisor.queue.total != 12, timeout=5000)
    with LabelStore.open(workspace) as store:
        revs = store.threshold_revisions(MODEL)
        assert [r.revision for r in revs] == [1, 2] and revs[1].user == "sue"


def test_an_inspector_can_look_but_not_save_or_sign_off(
    qtbot, make_window, tiny_model_dir, seeded, workspace
):
    win = open_window(qtbot, make_window, tiny_model_dir, "inspector", "ana")
    win.resize(1024, 700)  # a line PC's small screen: the supervisors' views fit too
    qtbot.waitUntil(lambda: win.width() == 1024)
    qtbot.keyClick(win, Qt.Key.Key_F4)
    review = win.supervisor.review_view
    qtbot.keyClick(review.table, Qt.Key.Key_A)
    assert review.feedback.text() == (
        "only a supervisor can sign off decisions (you are signed in as inspector)"
    )
    assert win.supervisor.queue.total == 12
    qtbot.keyClick(win, Qt.Key.Key_F5)
    view, ctl = win.supervisor.metrics_view, win.supervisor.metrics
    qtbot.waitUntil(lambda: ctl.state.evaluation is not None, timeout=10000)
    view.rows[2].slider.setValue(700)
    qtbot.mouseClick(view.save_btn, Qt.MouseButton.LeftButton)
    assert view.feedback.text() == (
        "only a supervisor can save thresholds (you are signed in as inspector)"
    )
    with LabelStore.open(workspace) as store:
        assert len(store.threshold_revisions(MODEL)) == 1


def test_long_curves_are_thinned_for_drawing_without_changing_their_shape():
    from inspector import metrics as m
    from inspector.gui.views.metrics import DRAW_MAX_POINTS, drawable

    rng = np.random.default_rng(0)
    y = rng.random(20000) < 0.2
    s = np.clip(y * 0.2 + rng.random(20000) * 0.8, 0, 1)
    prec, rec, _ = m.pr_curve(y, s)
    x2, y2 = drawable(rec, prec)
    assert len(x2) < len(rec) / 2 and (x2[0], y2[0], x2[-1], y2[-1]) == (
        rec[0],
        prec[0],
        rec[-1],
        prec[-1],
    )
    # every dropped vertex lies within 1/4000 of the drawn polyline's vertices' grid
    grid = {(round(a * 4000), round(b * 4000)) for a, b in zip(x2, y2, strict=True)}
    assert len(grid) == len(x2)
    short = rec[:DRAW_MAX_POINTS], prec[:DRAW_MAX_POINTS]
    assert drawable(*short)[0] is short[0]  # short curves are drawn as they are


def test_an_edge_flagged_heatmap_in_the_inspectors_view_puts_the_plate_in_the_queue(
    qtbot, make_window, tiny_model_dir, seeded, workspace
):
    from inspector.controllers.heatmaps import Heatmap
    from inspector.domain import Prediction
    from inspector.store.signoff import QueueFilter

    path = "/plates/p001.bmp"  # labelled inclusion by bob; tiny-test is sure of it
    with LabelStore.open(workspace) as store:
        store.add_predictions(
            [Prediction(path, ("crazing", "inclusion", "scratches"), (0.05, 0.95, 0.05),
                        (0.5,) * 3, "tiny-test")]
        )  # fmt: skip
        assert store.signoff_queue(QueueFilter(model_version="tiny-test")) == []
    win = open_window(qtbot, make_window, tiny_model_dir, "inspector", "ana")
    # what the inspectors' controller announces when a final heatmap arrives
    win.controller.heatmap.emit(Heatmap(path, "inclusion", np.zeros((8, 8)), edge_attention=True))

    def flagged() -> bool:
        with LabelStore.open(workspace) as store:
            q = store.signoff_queue(QueueFilter(model_version="tiny-test"))
        return [i.flags for i in q] == [("edge",)]

    qtbot.waitUntil(flagged, timeout=5000)


def test_the_queue_shows_a_heatmap_on_h_for_the_loaded_model_only(
    qtbot, make_window, tiny_model_dir, seeded, workspace, make_imagefolder
):
    pytest.importorskip("torch", reason="heatmaps need the train extra (torch)")
    from inspector.domain import Prediction

    classes = ("crazing", "inclusion", "scratches")
    files = sorted(str(p) for p in make_imagefolder(per_class=1).rglob("*.png"))
    with LabelStore.open(workspace) as store:
        for k, f in enumerate(files):
            probs = [0.05] * 3
            probs[k] = 0.55  # just over the threshold: doubtful
            store.add_predictions(
                [Prediction(f, classes, tuple(probs), (0.5,) * 3, "tiny-test")], add_images=True
            )
            store.set_labels(f, [classes[k]], user="ana")
    win = open_window(qtbot, make_window, tiny_model_dir, "supervisor", "sue")
    qtbot.keyClick(win, Qt.Key.Key_F4)
    view, ctl = win.supervisor.review_view, win.supervisor.queue

    qtbot.keyClick(view.table, Qt.Key.Key_H)  # an m1 plate: m1's weights are not loaded
    assert view.heatmap_note.text() == "heatmap needs model m1 loaded (loaded: tiny-test)"

    view.model_combo.setCurrentIndex(view.model_combo.findText("tiny-test"))
    qtbot.waitUntil(lambda: ctl.total == 3 and view.image_view.has_image(), timeout=5000)
    qtbot.keyClick(view.table, Qt.Key.Key_H)
    note = view.heatmap_note.text
    qtbot.waitUntil(
        lambda: view.image_view.overlay_visible() and note().startswith("crazing heatmap")
        and "first look" not in note(),
        timeout=60000,
    )  # fmt: skip
    qtbot.keyClick(view.table, Qt.Key.Key_H)
    assert not view.image_view.overlay_visible()


def _answer_bands_dialog(qtbot, band: float, none_band: float, seen: list[str]) -> None:
    """Fill in the modal bands dialog once it is open, note what it explained, press OK."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from inspector.gui.widgets.bands_dialog import BandsDialog

    def answer() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, BandsDialog):
            QTimer.singleShot(20, answer)
            return
        seen.append(dlg.meaning.text())
        dlg.band.setValue(band)
        dlg.none_band.setValue(none_band)
        seen.append(dlg.meaning.text())
        dlg.accept()

    QTimer.singleShot(0, answer)


def test_a_supervisor_narrows_the_queue_with_its_bands_and_sees_what_they_span(
    qtbot, make_window, tiny_model_dir, seeded, workspace
):
    win = open_window(qtbot, make_window, tiny_model_dir, "supervisor", "sue")
    view, ctl = win.supervisor.review_view, win.supervisor.queue
    qtbot.keyClick(win, Qt.Key.Key_F4)
    seen: list[str] = []
    _answer_bands_dialog(qtbot, 0.1, 0.1, seen)
    qtbot.mouseClick(view.bands_btn, Qt.MouseButton.LeftButton)
    assert "a threshold of 0.50: 0.38–0.62" in seen[0]  # the default, 0.5 log-odds
    assert "a threshold of 0.50: 0.48–0.52" in seen[1]  # explained live as it changed
    qtbot.waitUntil(lambda: "predictions rescored" in view.feedback.text(), timeout=10000)
    qtbot.waitUntil(lambda: ctl.total < 12, timeout=5000)
    assert win.supervisor.count_label.text() == f"sign-off queue: {ctl.total}"
    with LabelStore.open(workspace) as store:
        assert store.low_confidence_bands() == (0.1, 0.1)  # kept for the next session


def test_an_inspector_cannot_change_the_queue_bands(
    qtbot, make_window, tiny_model_dir, seeded, workspace
):
    win = open_window(qtbot, make_window, tiny_model_dir, "inspector", "ian")
    view = win.supervisor.review_view
    qtbot.keyClick(win, Qt.Key.Key_F4)
    _answer_bands_dialog(qtbot, 0.1, 0.1, [])
    qtbot.keyClick(view.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert "only a supervisor can change the queue's bands" in view.feedback.text()
    with LabelStore.open(workspace) as store:
        assert store.low_confidence_bands() == (0.5, 1.0)
