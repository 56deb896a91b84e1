"""The inspectors' controller without Qt: a real ONNX model, a real SQLite workspace, jobs run
inline by SyncRunner. What a person does with the keyboard, as method calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspector.controllers.inspect import GalleryFilter, InspectController
from inspector.controllers.labels import LabelService
from inspector.controllers.scoring import load_predictor
from inspector.jobs import SyncRunner


@pytest.fixture()
def ctl(tmp_path: Path, tiny_model_dir: Path, make_imagefolder):
    """A controller on a fresh workspace with the tiny model loaded and 6 plates opened."""
    service = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    runner = SyncRunner()
    c = InspectController(runner, str(tmp_path / "ws"), service)
    c.set_predictor(load_predictor(str(tiny_model_dir), service), str(tiny_model_dir))
    c.open_paths([str(make_imagefolder(per_class=2))])
    yield c
    service.close()


def test_opening_a_folder_lists_scores_and_selects_the_first_plate(ctl):
    assert len(ctl) == 6
    assert all(e.prediction is not None for e in ctl.entries)
    assert ctl.current == ctl.entries[0].path
    assert ctl.classes == ("crazing", "inclusion", "scratches")


def test_decisions_are_saved_undone_and_redone_in_the_store(ctl):
    first = ctl.current
    ctl.toggle_class(0)  # key 1
    want = set(ctl.entry(first).prediction.labels) ^ {"crazing"}
    assert set(ctl.entry(first).labels) == want
    ctl.undo()
    assert ctl.entry(first).labels is None
    ctl.redo()
    assert set(ctl.entry(first).labels) == want
    ctl.no_defect()  # 0 / N: saved, then the view moves on
    assert ctl.entry(first).labels == () and ctl.current != first
    kinds = [e.kind for e in ctl.service.history(first)]
    assert kinds == ["label", "undo", "redo", "label"]


def test_accept_takes_the_models_labels_and_moves_on(ctl):
    first = ctl.current
    ctl.accept_model()
    e = ctl.entry(first)
    assert e.labels == e.prediction.labels and e.status.value == "confirmed"
    assert ctl.current == ctl.entries[1].path


def test_filter_limits_navigation_and_selecting_a_hidden_plate_clears_it(ctl):
    first = ctl.current
    ctl.no_defect()
    ctl.set_filter(GalleryFilter(label="no defect"))
    assert [e.path for e in ctl.visible()] == [first]
    ctl.move(1)  # nothing else to move to
    assert ctl.current == first
    hidden = ctl.entries[3].path
    ctl.select(hidden)
    assert ctl.current == hidden and not ctl.filter.active


def test_without_a_workspace_a_decision_is_refused_with_a_message(tmp_path, make_imagefolder):
    c = InspectController(SyncRunner(), str(tmp_path / "ws"), service=None)
    said: list[str] = []
    c.message.connect(said.append)
    c.add_paths([str(p) for p in sorted(make_imagefolder(per_class=1).rglob("*.png"))])
    c.no_defect()
    assert c.current_entry().labels is None
    assert "cannot be saved" in said[-1]


def test_watched_defects_raise_an_alarm_and_take_the_front(ctl, tmp_path, make_imagefolder):
    alarms = []
    ctl.alarm.connect(alarms.append)
    ctl.set_watching(True)
    cam = tmp_path / "camera"
    cam.mkdir()
    new = []
    for i, src in enumerate(ctl.entries[:3]):
        dst = cam / f"plate_{i}.png"
        shutil.copy(src.path, dst)
        new.append(str(dst))
    ctl.add_paths(new, newest_first=True)
    assert [e.path for e in ctl.entries[:3]] == new[::-1]
    assert ctl.current == new[-1]  # the newest plate is shown
    flagged = [p for p in new if ctl.entry(p).alarm]
    assert bool(alarms) == bool(flagged)


def test_an_unreadable_plate_is_a_problem_not_a_prediction(tmp_path, tiny_model_dir):
    service = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    c = InspectController(SyncRunner(), str(tmp_path / "ws"), service)
    c.set_predictor(load_predictor(str(tiny_model_dir), service), str(tiny_model_dir))
    problems = []
    c.problem.connect(lambda path, reason: problems.append((path, reason)))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    c.add_paths([str(bad)])
    assert c.entry(str(bad)).prediction is None and c.entry(str(bad)).error
    assert problems and problems[0][0] == str(bad)
    service.close()


def test_heatmap_without_a_model_says_so(tmp_path, make_imagefolder):
    c = InspectController(SyncRunner(), str(tmp_path / "ws"))
    said = []
    c.heatmap_message.connect(said.append)
    c.add_paths([str(p) for p in sorted(make_imagefolder(per_class=1).rglob("*.png"))])
    c.set_classes(("crazing",))
    c.show_heatmap(True)
    assert said == ["Explanations need a model"]
