"""Unfamiliar plates in the window (issue 16), driven with real widgets: the badge on the image
and its tooltip, the gallery filter (key U), and the watch alarm that says "unfamiliar plate".

Predictions carry unfamiliar scores through the window's own scoring path: the loaded tiny
model is wrapped (tests/unfamiliar_data.py) the way the trust branch's model will fill them."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.unfamiliar_data import UnfamiliarScores

ODD, NAN = "crazing_0.png", "inclusion_1.png"


@pytest.fixture()
def win(qtbot, make_window, tiny_model_dir):
    w = make_window(tiny_model_dir)
    qtbot.waitUntil(lambda: w.controller.predictor is not None, timeout=20000)
    return w


def use_scores(win, scores: dict[str, float], threshold: float | None = 2.0) -> None:
    ctl = win.controller
    ctl.set_predictor(UnfamiliarScores(ctl.predictor, scores, threshold), ctl.model_dir)


def select(qtbot, win, name: str) -> None:
    ctl = win.controller
    ctl.select(next(e.path for e in ctl.entries if e.name == name))
    qtbot.waitUntil(lambda: win.inspect.image_view.has_image())


def test_the_badge_shows_for_an_unfamiliar_plate_only(qtbot, win, make_imagefolder, wait_scored):
    use_scores(win, {ODD: 9.0, NAN: math.nan})
    win.open_paths([str(make_imagefolder(per_class=2))])
    wait_scored(win, 6)
    view = win.inspect
    for name in (ODD, NAN):
        select(qtbot, win, name)
        assert view.badge.isVisible() and "UNFAMILIAR PLATE" in view.badge.text()
        tip = view.badge.toolTip()
        assert "has not seen plates like this" in tip and "deserve doubt" in tip
        assert view.bars.summary().startswith("unfamiliar plate")  # "Model: …" under the bars
        assert "no defect" not in view.bars.summary()
    assert "could not be computed" in view.badge.toolTip()  # the NaN one
    select(qtbot, win, "scratches_0.png")  # familiar (score 0.5 under 2.0)
    assert not view.badge.isVisible()
    # the gallery filter, with its key
    qtbot.keyClick(view, Qt.Key.Key_U)
    assert view.filter_unfamiliar.isChecked() and view.proxy.rowCount() == 2
    view.filter_unfamiliar.setChecked(False)
    assert view.proxy.rowCount() == 6


def test_no_badge_for_a_model_without_the_statistics(qtbot, win, make_imagefolder, wait_scored):
    use_scores(win, {ODD: 9.0}, threshold=None)  # unfamiliar=None: an older model version
    win.open_paths([str(make_imagefolder(per_class=2))])
    wait_scored(win, 6)
    select(qtbot, win, ODD)
    assert win.controller.current_entry().prediction.unfamiliar is None
    assert not win.inspect.badge.isVisible()


def test_a_watched_unfamiliar_plate_alarms_with_unfamiliar_in_the_text(
    qtbot, win, make_imagefolder, tmp_path
):
    folder = make_imagefolder(per_class=1)
    use_scores(win, {"plate_odd.png": 9.0})
    cam = tmp_path / "camera"
    cam.mkdir()
    win.watch(str(cam))
    shutil.copy(next(folder.rglob("*.png")), cam / "plate_odd.png")
    view = win.inspect
    qtbot.waitUntil(lambda: view.alarm_bar.isVisible(), timeout=15000)
    assert "plate_odd.png" in view.alarm.text() and "unfamiliar plate" in view.alarm.text()
    assert "no defect" not in view.alarm.text()
    qtbot.waitUntil(lambda: view.badge.isVisible())  # the new plate is shown, badge and all
    win.stop_watching()


def test_the_signoff_queue_shows_an_unfamiliar_plate_with_its_reason(
    qtbot, make_window, tiny_model_dir, workspace
):
    from inspector.store import LabelStore
    from tests.supervisor_data import seed
    from tests.unfamiliar_data import mark_unfamiliar

    with LabelStore.open(workspace) as store:
        seed(store, 60)  # 12 doubtful decisions
        mark_unfamiliar(store, {"/plates/p001.bmp": 9.0})  # confident, but unfamiliar
    win = make_window(tiny_model_dir, user="sue", role="supervisor")
    qtbot.waitUntil(lambda: win.supervisor.queue.total == 13, timeout=10000)
    view = win.supervisor.review_view
    qtbot.keyClick(win, Qt.Key.Key_F4)
    model = view.table_model
    why = {model.index(r, 0).data(): model.index(r, 1).data() for r in range(model.rowCount())}
    assert why["p001.bmp"].startswith("unfamiliar plate: the model has not seen plates like")
    assert sum(w.startswith("low confidence: ") for w in why.values()) == 12
    row = list(why).index("p001.bmp")
    assert model.index(row, 1).data(Qt.ItemDataRole.ForegroundRole) is not None  # coloured
    view.table.selectRow(row)
    qtbot.waitUntil(lambda: win.supervisor.queue.current.path == "/plates/p001.bmp")
    assert view.badge.isVisible() and "unfamiliar plate" in view.info.text()
    view.table.selectRow(0 if row else 1)
    qtbot.waitUntil(lambda: not view.badge.isVisible())


def test_the_metrics_view_draws_a_reliability_diagram_per_class(
    qtbot, make_window, tiny_model_dir, workspace
):
    from inspector.store import LabelStore
    from tests.supervisor_data import seed

    with LabelStore.open(workspace) as store:
        seed(store, 60)
    win = make_window(tiny_model_dir, user="sue", role="supervisor")
    win.resize(1024, 700)  # a line PC's small screen: three plots still fit
    qtbot.waitUntil(lambda: win.supervisor.queue.total == 12, timeout=10000)
    qtbot.keyClick(win, Qt.Key.Key_F5)
    view, ctl = win.supervisor.metrics_view, win.supervisor.metrics
    qtbot.waitUntil(lambda: ctl.state.evaluation is not None, timeout=10000)
    ev = ctl.state.evaluation
    assert len(view.rel_curves) == len(ev.classes) == 6
    legend = [label.text for _, label in view.rel_legend.items]
    for k, c in enumerate(ev.curves):
        x, y = view.rel_curves[k].getData()
        assert len(x) >= 2 and np.all((x >= 0) & (x <= 1)) and np.all((y >= 0) & (y <= 1))
        np.testing.assert_allclose(x, c.rel_confidence)
        assert legend[k] == f"{c.name} · ECE {c.ece:.3f}"
    assert view.rel_plot.isVisible() and view.rel_plot.height() >= 100


def test_the_bars_never_say_no_defect_for_an_unfamiliar_plate(qtbot):
    from inspector.domain import Prediction
    from inspector.gui.widgets.probability_bars import ProbabilityBars

    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    quiet = ("q.bmp", ("crazing", "scratches"), (0.1, 0.2), (0.5, 0.5))
    bars.set_prediction(Prediction(*quiet))
    assert bars.summary() == "no defect"
    for score in (9.0, math.nan):
        bars.set_prediction(Prediction(*quiet, unfamiliar=score, unfamiliar_threshold=2.0))
        assert bars.summary() == "unfamiliar plate · nothing over threshold"
    bars.set_prediction(Prediction(*quiet, unfamiliar=1.0, unfamiliar_threshold=2.0))
    assert bars.summary() == "no defect"
