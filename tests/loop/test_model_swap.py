"""A promoted version replaces the window's model: everything loaded is scored again by it."""

from __future__ import annotations

from inspector.controllers.inspect import InspectController
from inspector.controllers.labels import LabelService
from inspector.controllers.scoring import load_predictor
from inspector.jobs import SyncRunner
from tests.conftest import make_model_version


def test_swapping_the_model_rescores_every_loaded_plate(tmp_path, tiny_model_dir, make_imagefolder):
    service = LabelService.open(tmp_path / "ws", user="ana", role="supervisor")
    try:
        c = InspectController(SyncRunner(), str(tmp_path / "ws"), service)
        c.set_predictor(load_predictor(str(tiny_model_dir), service), str(tiny_model_dir))
        c.open_paths([str(make_imagefolder(per_class=2))])
        before = {e.path: e.prediction for e in c.entries}
        assert {p.model_version for p in before.values()} == {"tiny-test"}

        promoted = make_model_version(tmp_path / "v2", seed=1, version="tiny-v2")
        c.set_predictor(load_predictor(str(promoted), service), str(promoted))
        after = {e.path: e.prediction for e in c.entries}
        assert {p.model_version for p in after.values()} == {"tiny-v2"}
        assert any(after[k].probabilities != before[k].probabilities for k in before)
    finally:
        service.close()
