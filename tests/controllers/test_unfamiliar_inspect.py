"""Unfamiliar plates in the inspectors' controller, without Qt (issue 16): predictions carrying
an unfamiliar score come through the real scoring path (tiny ONNX model, SQLite workspace,
SyncRunner); captions, the alarm and the filter say "unfamiliar plate", never "no defect"."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from inspector.controllers.entries import Entry, GalleryFilter, unfamiliar_note
from inspector.controllers.inspect import InspectController
from inspector.controllers.labels import LabelService
from inspector.controllers.scoring import load_predictor
from inspector.domain import Prediction
from inspector.jobs import SyncRunner
from tests.unfamiliar_data import UnfamiliarScores

ODD, NAN = "crazing_0.png", "inclusion_1.png"


@pytest.fixture()
def ctl(tmp_path: Path, tiny_model_dir: Path, make_imagefolder):
    service = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    c = InspectController(SyncRunner(), str(tmp_path / "ws"), service)
    real = load_predictor(str(tiny_model_dir), service)
    c.set_predictor(UnfamiliarScores(real, {ODD: 9.0, NAN: math.nan}), str(tiny_model_dir))
    c.open_paths([str(make_imagefolder(per_class=2))])
    yield c
    service.close()


def by_name(ctl: InspectController, name: str) -> Entry:
    return next(e for e in ctl.entries if e.name == name)


def test_scored_plates_carry_the_verdict_and_the_store_keeps_it(ctl):
    assert by_name(ctl, ODD).unfamiliar and by_name(ctl, NAN).unfamiliar
    assert sum(e.unfamiliar for e in ctl.entries) == 2
    stored = ctl.service._store.prediction(by_name(ctl, NAN).path)
    assert stored.is_unfamiliar and math.isnan(stored.unfamiliar)  # NaN survives the store


def test_an_unfamiliar_plate_never_reads_no_defect():
    quiet = Prediction("q.bmp", ("crazing", "scratches"), (0.1, 0.2), (0.5, 0.5))
    for score in (9.0, math.nan):
        p = Prediction(*vars_of(quiet), unfamiliar=score, unfamiliar_threshold=2.0)
        caption = Entry("q.bmp", prediction=p).caption()
        assert caption.startswith("unfamiliar plate") and "no defect" not in caption
        assert "has not seen plates like this" in unfamiliar_note(p)
    assert "could not be computed" in unfamiliar_note(
        Prediction(*vars_of(quiet), unfamiliar=math.nan, unfamiliar_threshold=2.0)
    )
    familiar = Prediction(*vars_of(quiet), unfamiliar=1.0, unfamiliar_threshold=2.0)
    assert Entry("q.bmp", prediction=familiar).caption().startswith("no defect")
    assert Entry("q.bmp", prediction=quiet).caption().startswith("no defect")  # old model
    assert unfamiliar_note(familiar) == unfamiliar_note(quiet) == ""


def vars_of(p: Prediction) -> tuple:
    return p.path, p.classes, p.probabilities, p.thresholds


def test_the_filter_and_its_key_show_only_the_unfamiliar_plates(ctl):
    ctl.toggle_unfamiliar_filter()  # key U
    assert ctl.filter == GalleryFilter(unfamiliar=True)
    assert sorted(e.name for e in ctl.visible()) == sorted([ODD, NAN])
    ctl.move(1)
    assert ctl.entry(ctl.current).unfamiliar
    ctl.toggle_unfamiliar_filter()
    assert len(ctl.visible()) == 6


def test_a_watched_unfamiliar_plate_alarms_and_says_so(ctl, tmp_path):
    ctl.set_watching(True)
    cam = tmp_path / "camera"
    cam.mkdir()
    for e in list(ctl.entries)[:6]:
        shutil.copy(e.path, cam / e.name)
    ctl.add_watched([str(cam / e.name) for e in ctl.entries[:6] if e.source == "opened"])
    alarmed = {Path(p).name for _, p in ctl.alarms}
    watched = [e for e in ctl.entries if e.source == "watched"]
    # every unfamiliar plate alarms, whatever the model says of it; defects alarm as before
    assert {e.name for e in watched if e.unfamiliar or e.alarm} == alarmed
    assert {ODD, NAN} <= alarmed
    for _, path in ctl.alarms:
        text = ctl.alarm_text(path)
        assert ("unfamiliar plate" in text) == ctl.entry(path).unfamiliar
        assert "no defect" not in text
