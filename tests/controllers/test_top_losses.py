"""The annotators' top-loss controller without Qt: a real SQLite workspace with known labels and
predictions, a real ONNX model for re-scoring, jobs run inline by SyncRunner."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from inspector.controllers.history import export_csv, image_history
from inspector.controllers.labels import LabelService
from inspector.controllers.roles import PermissionDenied, confirm_supervisor, set_supervisor_pin
from inspector.controllers.scoring import load_predictor
from inspector.controllers.top_losses import QueueFilter, TopLossController, rescore_job
from inspector.domain import NEU_CLASSES, Prediction
from inspector.jobs import Cancelled, SyncRunner, run
from inspector.store import LabelStore

#         crazing inclusion patches pitted rolled-in scratches
PROBS = {
    "inclusion_0": (
        0.02,
        0.03,
        0.02,
        0.02,
        0.02,
        0.97,
    ),  # labelled inclusion: the model says scratches
    "crazing_1": (0.10, 0.80, 0.02, 0.02, 0.02, 0.02),  # labelled crazing: the model says inclusion
    "scratches_0": (0.02, 0.02, 0.02, 0.02, 0.02, 0.40),  # right, but unsure
    "crazing_0": (0.90, 0.05, 0.02, 0.02, 0.02, 0.02),
    "inclusion_1": (0.02, 0.95, 0.02, 0.02, 0.02, 0.02),
    "scratches_1": (0.02, 0.02, 0.02, 0.02, 0.02, 0.99),
}
EXPECTED_ORDER = list(PROBS)  # highest loss first, as written above


def stem(path: str) -> str:
    return Path(path).stem


@pytest.fixture()
def ws(tmp_path: Path, make_imagefolder) -> Path:
    """6 imported plates (labelled by folder, by 'importer') and model m1's known predictions."""
    ws = tmp_path / "ws"
    folder = make_imagefolder(per_class=2)
    importer = LabelService.open(ws, user="importer", role="annotator")
    run(importer.import_dataset([str(folder)]))
    importer.close()
    with LabelStore.open(ws) as s:
        s.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
        paths = {stem(p): p for p, _ in s.training_snapshot()}
        s.add_predictions(
            Prediction(paths[k], NEU_CLASSES, v, (0.5,) * 6, "m1") for k, v in PROBS.items()
        )
    return ws


@pytest.fixture()
def service(ws: Path):
    svc = LabelService.open(ws, user="ana", role="annotator")
    yield svc
    svc.close()


@pytest.fixture()
def ctl(service) -> TopLossController:
    c = TopLossController(SyncRunner(), page_size=100)
    c.set_service(service)
    return c


def shown(ctl: TopLossController) -> list[str]:
    return [stem(r.path) for r in ctl.rows]


class OptionsLate(SyncRunner):
    """Runs every job inline except the options job, which it holds back: on a loaded machine
    the page (one indexed query) lands before the options (an unscored count per model)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list = []

    def submit(self, channel, fn, *args, **kwargs) -> None:
        if channel == "loss_options":
            self.held.append((channel, fn, args, kwargs))
        else:
            super().submit(channel, fn, *args, **kwargs)


def test_a_key_pressed_before_the_options_arrive_still_labels_the_plate(service):
    runner = OptionsLate()
    c = TopLossController(runner, page_size=100)
    c.set_service(service)
    assert runner.held and shown(c)[0] == "inclusion_0"  # the page is shown, options pending
    c.toggle_class(NEU_CLASSES.index("scratches"))
    last = service.history(c.current_row().path)[-1]
    assert (last.user, last.labels) == ("ana", ("inclusion", "scratches"))
    SyncRunner.submit(runner, *runner.held[0][:2], *runner.held[0][2], **runner.held[0][3])
    assert c.options.users  # the full options replace what the page brought


def test_known_labels_and_predictions_give_the_expected_top_loss_order(ctl):
    assert shown(ctl) == EXPECTED_ORDER
    assert ctl.total == 6 and ctl.range_text() == "1–6 of 6"
    first = ctl.current_row()
    assert ctl.current == 0 and stem(first.path) == "inclusion_0"
    assert first.predicted == ("scratches",) and first.labels == ("inclusion",)
    assert first.user == "importer"
    ctl.set_filter(QueueFilter(predicted="scratches", label="inclusion"))  # the class pair
    assert shown(ctl) == ["inclusion_0"]
    ctl.set_filter(QueueFilter(user="nobody"))
    assert shown(ctl) == [] and ctl.range_text() == "queue empty"


def test_label_is_right_writes_an_event_with_user_and_role_and_the_image_leaves(ctl, service):
    path = ctl.current_row().path
    ctl.confirm()  # Enter
    last = service.history(path)[-1]
    assert (last.kind, last.labels, last.user, last.role) == (
        "label",
        ("inclusion",),
        "ana",
        "annotator",
    )
    assert last.model_version == "m1" and last.probabilities["scratches"] == pytest.approx(0.97)
    assert "inclusion_0" not in shown(ctl) and stem(ctl.current_row().path) == "crazing_1"
    assert ctl.range_text() == "1–5 of 5"
    ctl.reload()
    assert shown(ctl) == EXPECTED_ORDER[1:] and ctl.total == 5


def test_relabel_in_place_keeps_the_image_until_you_move_on(ctl, service):
    path = ctl.current_row().path
    ctl.toggle_class(5)  # key 6: scratches on
    ctl.toggle_class(1)  # key 2: inclusion off
    assert ctl.current_row().labels == ("scratches",) and ctl.current == 0
    assert [e.labels for e in service.history(path)][-2:] == [
        ("inclusion", "scratches"),
        ("scratches",),
    ]
    ctl.move(1)
    assert shown(ctl) == EXPECTED_ORDER[1:] and stem(ctl.current_row().path) == "crazing_1"
    second = ctl.current_row().path
    ctl.no_defect()  # 0 / N: saved, and on to the next image
    assert service.history(second)[-1].labels == ()
    assert shown(ctl) == EXPECTED_ORDER[2:]


def test_undo_is_yours_a_colleagues_later_decision_stands(ctl, service, ws):
    path = ctl.current_row().path
    ctl.confirm()
    bo = LabelService.open(ws, user="bo", role="annotator")
    try:
        bo.decide(path, ["scratches"], seen=None)  # bo relabels it after ana
        said: list[str] = []
        ctl.message.connect(said.append)
        ctl.undo()  # Ctrl+Z by ana
        assert said[-1].startswith("Cannot undo: bo changed this label after you")
        assert service.history(path)[-1].user == "bo"
        assert bo.states([path])[path].labels == ("scratches",)
    finally:
        bo.close()


def test_undo_brings_your_confirmed_image_back_into_the_queue(ctl, service):
    ctl.confirm()
    assert "inclusion_0" not in shown(ctl)
    ctl.undo()
    assert shown(ctl) == EXPECTED_ORDER and stem(ctl.current_row().path) == "inclusion_0"
    assert [e.kind for e in service.history(ctl.rows[0].path)][-2:] == ["label", "undo"]


def test_pages_and_moving_past_the_end_of_a_page(service):
    ctl = TopLossController(SyncRunner(), page_size=4)
    ctl.set_service(service)
    assert shown(ctl) == EXPECTED_ORDER[:4] and ctl.has_more
    for _ in range(4):
        ctl.move(1)
    assert ctl.page_number == 2 and shown(ctl) == EXPECTED_ORDER[4:]
    assert ctl.range_text() == "5–6 of 6"
    ctl.move(-1)  # back over the start: the previous page, its last row
    assert ctl.page_number == 1 and stem(ctl.current_row().path) == EXPECTED_ORDER[3]


def test_rescoring_for_another_model_version_fills_its_queue(ctl, service, tiny_model_dir):
    load_predictor(str(tiny_model_dir), service)  # registers 'tiny-test' with its folder
    ctl.refresh_options()
    assert ctl.options.unscored["tiny-test"] == 6 and ctl.options.unscored["m1"] == 0
    ctl.set_filter(QueueFilter(model_version="tiny-test"))
    assert ctl.rows == []
    progress = []
    ctl.rescore_progress.connect(progress.append)
    ctl.rescore()
    assert progress[-1] is None and any(p is not None and p.done == 6 for p in progress)
    assert len(ctl.rows) == 6 and ctl.classes == ("crazing", "inclusion", "scratches")
    assert ctl.options.unscored["tiny-test"] == 0


def test_rescoring_can_be_cancelled_and_a_missing_model_folder_is_one_line(service, tiny_model_dir):
    load_predictor(str(tiny_model_dir), service)
    job = rescore_job(service, str(tiny_model_dir), "tiny-test", cancel=lambda: True)
    with pytest.raises(Cancelled):
        run(job)
    assert len(service.unscored("tiny-test")) == 6
    with pytest.raises(Exception, match="has no model folder"):
        run(rescore_job(service, "/nowhere", "tiny-test"))


def test_history_lists_old_to_new_with_what_was_seen_and_exports(ctl, service, tmp_path):
    path = ctl.current_row().path
    ctl.toggle_class(5)
    rows = image_history(service, path)
    assert [(r.who, r.action, r.old, r.new) for r in rows] == [
        ("importer", "import", "unlabelled", "inclusion"),
        ("ana", "label", "inclusion", "inclusion, scratches"),
    ]
    assert rows[1].model_version == "m1" and rows[1].seen.startswith("scratches 0.97")
    out = tmp_path / "history.csv"
    assert export_csv(rows, out) == 2
    lines = list(csv.reader(out.open(encoding="utf-8")))
    assert lines[0][:4] == ["When", "Who", "Role", "Action"] and lines[2][1] == "ana"


def test_supervisor_actions_are_refused_for_others_and_ask_the_pin(ws):
    ana = LabelService.open(ws, user="ana", role="annotator")
    sue = LabelService.open(ws, user="sue", role="supervisor")
    try:
        with pytest.raises(PermissionDenied, match="only a supervisor can save thresholds"):
            confirm_supervisor(ana, None, "save thresholds")
        confirm_supervisor(sue, None, "save thresholds")  # no PIN set: the role is enough
        with pytest.raises(PermissionDenied):
            set_supervisor_pin(ana, "4711")
        set_supervisor_pin(sue, "4711")
        assert "4711" not in sue.pin_hash() and sue.pin_hash().startswith("scrypt$")
        with pytest.raises(PermissionDenied, match="wrong supervisor PIN"):
            confirm_supervisor(sue, "1234", "sign off")
        confirm_supervisor(sue, "4711", "sign off")
        with pytest.raises(PermissionDenied, match="wrong supervisor PIN"):
            set_supervisor_pin(sue, "9999", current="0000")
    finally:
        ana.close()
        sue.close()
