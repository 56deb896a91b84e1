"""Reliability diagrams in the metrics controller, without Qt (issue 16): per class, from the
workspace's labels and stored predictions (real SQLite, SyncRunner), equal to scikit-learn's
calibration_curve, with each class's expected calibration error."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import calibration_curve

from inspector.controllers.labels import LabelService
from inspector.controllers.metrics import RELIABILITY_BINS, MetricsController, class_curve
from inspector.jobs import SyncRunner
from tests.supervisor_data import MODEL, seed


def test_each_class_has_its_reliability_diagram_and_ece(tmp_path):
    svc = LabelService.open(tmp_path / "ws", user="sue", role="supervisor")
    try:
        seed(svc._store, 120)
        ctl = MetricsController(SyncRunner())
        ctl.set_service(svc.supervision())
        ctl.evaluate(MODEL, "human")  # the plates people labelled in the app
        ev = ctl.state.evaluation
        _, y, p = svc._store.scored(MODEL, "human")
    finally:
        svc.close()
    assert ev.n == 120
    for k, c in enumerate(ev.curves):
        freq, conf = calibration_curve(y[:, k], p[:, k], n_bins=RELIABILITY_BINS)
        np.testing.assert_allclose(c.rel_confidence, conf)
        np.testing.assert_allclose(c.rel_frequency, freq)
        assert c.rel_count.sum() == 120 and (c.rel_count > 0).all()
        by_hand = (c.rel_count * np.abs(c.rel_frequency - c.rel_confidence)).sum() / 120
        assert c.ece == pytest.approx(by_hand, abs=1e-6) and 0 < c.ece < 1


def test_a_perfectly_calibrated_class_has_ece_near_zero_and_no_plates_give_nan():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 200_000)
    y = rng.uniform(0, 1, p.size) < p  # "0.8" is right four times in five
    c = class_curve("crazing", y, p)
    assert c.ece < 0.01 and len(c.rel_confidence) == RELIABILITY_BINS
    np.testing.assert_allclose(c.rel_frequency, c.rel_confidence, atol=0.02)
    empty = class_curve("crazing", np.zeros(0), np.zeros(0))
    assert np.isnan(empty.ece) and len(empty.rel_confidence) == 0
