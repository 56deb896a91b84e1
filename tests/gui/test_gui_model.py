"""The Model view (F6): a real training process (QProcess), progress, cancel, promote, rollback."""

from __future__ import annotations

from inspector.controllers.finetune import ModelController
from inspector.gui.views.model import ModelView
from inspector.store import LabelStore
from tests.loop.conftest import tiny_args, workspace  # noqa: F401 (fixture)

EXTRA = tiny_args(".")[2:]  # the tiny schedule without --workspace


def _view(qtbot, ws, role="supervisor"):
    c = ModelController(ws, user="eva", role=role)
    view = ModelView(c)
    qtbot.addWidget(view)
    view.show()
    return c, view


def test_fine_tune_progress_candidate_promote_rollback(qtbot, workspace):  # noqa: F811
    ws, parent = workspace
    c, view = _view(qtbot, ws)
    assert view.summary.text().startswith("Starts from tiny-parent (head kept)")
    view.runner.start(*EXTRA, "--version", "v2")
    assert not view.start_button.isEnabled() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: c.state.phase != "running", timeout=180_000)
    assert c.state.phase == "done", c.state.log
    assert c.state.curve and view.progress.value() == c.state.total
    assert view.selected() == "v2"  # the new candidate is listed and selected
    assert view.table.rowCount() >= 2 and view.table.item(0, 0).text() == "macro AP"

    swapped = []
    c.model_promoted.connect(swapped.append)
    assert view.promote("first fine-tune")
    with LabelStore.open(ws) as store:
        assert store.active_model().name == "v2"
    assert swapped == [str(ws / "models" / "v2")]
    assert view.rollback()
    with LabelStore.open(ws) as store:
        assert store.active_model().name == "tiny-parent"
    assert swapped[-1] == str(parent)


def test_cancel_stops_the_process_and_registers_nothing(qtbot, workspace):  # noqa: F811
    ws, _ = workspace
    c, view = _view(qtbot, ws)
    view.runner.start(*tiny_args(".", "--epochs", "50")[2:])
    qtbot.waitUntil(
        lambda: any(line.startswith("training") for line in c.state.log), timeout=60_000
    )
    view.cancel_button.click()
    qtbot.waitUntil(lambda: c.state.phase != "running", timeout=30_000)
    assert c.state.phase == "cancelled"
    with LabelStore.open(ws) as store:
        assert store.training_runs()[-1]["status"] == "cancelled"
        assert {m.name for m in store.model_versions()} == {"tiny-parent"}


def test_decisions_are_for_supervisors(qtbot, workspace):  # noqa: F811
    ws, _ = workspace
    _, view = _view(qtbot, ws, role="annotator")
    assert not view.promote_button.isEnabled() and not view.discard_button.isEnabled()
