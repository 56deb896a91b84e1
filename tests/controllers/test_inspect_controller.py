"""The inspectors' controller without Qt: a real ONNX model, a real SQLite workspace, jobs run
inline by SyncRunner. What a person does with the keyboard, as method calls."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from inspector.controllers.entries import GalleryFilter
from inspector.controllers.inspect import InspectController
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
    assert ctl.current == hidden and ctl.filter == GalleryFilter()


def test_without_a_workspace_a_decision_is_refused_with_a_message(tmp_path, make_imagefolder):
    c = InspectController(SyncRunner(), str(tmp_path / "ws"), service=None)
    said: list[str] = []
    c.message.connect(said.append)
    c.add_paths([str(p) for p in sorted(make_imagefolder(per_class=1).rglob("*.png"))])
    c.no_defect()
    assert c.current_entry().labels is None
    assert "cannot be saved" in said[-1]


def test_watched_plates_have_their_own_list_alarms_and_acknowledge(ctl, tmp_path):
    opened = [e.path for e in ctl.entries]
    said = []
    ctl.alarms_changed.connect(lambda alarms: said.append(len(alarms)))
    ctl.set_watching(True)
    assert ctl.visible() == [] and ctl.current is None  # the watched list starts empty
    cam = tmp_path / "camera"
    cam.mkdir()
    new = []
    for i, src in enumerate(opened[:3]):
        dst = cam / f"plate_{i}.png"
        shutil.copy(src, dst)
        new.append(str(dst))
        ctl.add_watched([str(dst)])
        assert ctl.current == str(dst)  # each new plate is shown as it arrives
    assert [e.path for e in ctl.visible()] == new[::-1]  # newest first, opened ones not mixed in
    defects = [p for p in new if ctl.entry(p).alarm]
    assert len(ctl.alarms) == len(defects)
    if defects:
        assert said[-1] == len(defects)
    ctl.acknowledge_alarms()
    assert ctl.alarms == [] and said[-1] == 0
    ctl.set_watching(False)
    assert [e.path for e in ctl.visible()] == opened  # back to the opened images


def test_follow_off_keeps_the_plate_being_looked_at(ctl, tmp_path):
    ctl.set_watching(True)
    ctl.follow_new = False
    cam = tmp_path / "camera"
    cam.mkdir()
    paths = []
    for i, src in enumerate(ctl.entries[-2:]):
        dst = cam / f"p{i}.png"
        shutil.copy(src.path, dst)
        paths.append(str(dst))
    ctl.add_watched(paths[:1])
    looking_at = ctl.current
    ctl.add_watched(paths[1:])
    assert ctl.current == looking_at


def test_an_unreadable_plate_cannot_be_labelled(tmp_path, tiny_model_dir):
    service = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    c = InspectController(SyncRunner(), str(tmp_path / "ws"), service)
    c.set_predictor(load_predictor(str(tiny_model_dir), service), str(tiny_model_dir))
    said = []
    c.message.connect(said.append)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    c.add_paths([str(bad)])
    c.no_defect()
    assert "cannot be labelled" in said[-1]
    assert service.states([str(bad)]) == {} or service.states([str(bad)])[str(bad)].labels is None
    assert c.counts() == {"images": 0, "unreadable": 1, "alarms": 0}
    service.close()


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


class DeferredRunner(SyncRunner):
    """Runs each job later, when asked, as the window's thread pool delivers results later."""

    def __init__(self) -> None:
        super().__init__()
        self.queue: list = []

    def submit(self, channel, fn, *args, **kwargs) -> None:
        self.queue.append((channel, fn, args, kwargs))

    def run(self, channel: str) -> None:
        """Run the queued jobs of ``channel`` (others stay queued)."""
        todo = [job for job in self.queue if job[0] == channel]
        self.queue = [job for job in self.queue if job[0] != channel]
        for ch, fn, args, kwargs in todo:
            SyncRunner.submit(self, ch, fn, *args, **kwargs)


def test_the_heatmap_follows_the_top_defect_once_the_score_arrives(tmp_path, tiny_model_dir):
    import json

    import cv2

    from tests.conftest import synthetic_plate

    # the tiny model with low thresholds: every plate shows defects, the top one is known
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    card = json.loads((model / "card.json").read_text())
    card["thresholds"] = [0.01] * len(card["classes"])
    (model / "card.json").write_text(json.dumps(card))
    service = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    runner = DeferredRunner()
    c = InspectController(runner, str(tmp_path / "ws"), service)
    c.set_predictor(load_predictor(str(model), service), str(model))
    plate = tmp_path / "p.png"
    cv2.imwrite(str(plate), synthetic_plate(0, 64, seed=3))
    (pred,) = list(c.predictor.predict_paths([str(plate)]))
    top = max(zip(pred.probabilities, pred.classes, strict=True))[1]
    other = next(k for k in c.classes if k != top)
    c.show_heatmap(True)
    c.set_heatmap_class(other)
    c.add_paths([str(plate)])  # selected at once (the heatmap of `other` is asked), scored later
    assert c.current == str(plate) and c.heatmap_class == other
    runner.queue = [job for job in runner.queue if job[0] != "explain"]
    runner.run("score")
    assert c.heatmap_class == top
    assert [job[2][2] for job in runner.queue if job[0] == "explain"] == [top]
    service.close()


def test_heatmaps_are_prepared_only_when_nobody_waits_on_the_window(ctl):
    said = []
    ctl.heatmap_message.connect(said.append)
    ctl.select(ctl.entries[1].path)  # the person is working: not now
    assert ctl.warm_heatmaps() is False and not ctl.heatmaps_ready
    ctl.last_action -= 60  # a minute later, nothing scoring
    assert ctl.warm_heatmaps() is True and ctl.heatmaps_ready
    # the default heatmaps (regions) only open the ONNX session: no torch to load
    assert said[0] == "opening heatmaps…" and said[-1].startswith("Heatmaps ready")


def test_undo_is_yours_a_colleagues_later_decision_is_not_undone(ctl, tmp_path):
    first = ctl.current
    ctl.no_defect()  # ana: no defect
    bo = LabelService.open(tmp_path / "ws", user="bo", role="inspector")
    try:
        bo.decide(first, ["scratches"], seen=None)  # bo decides on the same plate after her
        said: list[str] = []
        ctl.message.connect(said.append)
        ctl.undo()  # ana's Ctrl+Z
        assert said[-1].startswith("Cannot undo: bo changed this label after you")
        assert bo.states([first])[first].labels == ("scratches",)
        assert [e.user for e in bo.history(first)] == ["ana", "bo"]
    finally:
        bo.close()
