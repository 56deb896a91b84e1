"""The metrics controller without Qt: curves and AP equal scikit-learn's, operating points,
threshold revisions (supervisors only) that re-flag the sign-off queue."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from inspector import metrics
from inspector.controllers.labels import LabelService
from inspector.controllers.metrics import MetricsController, class_curve, operating_point
from inspector.controllers.review_queue import ReviewQueueController
from inspector.jobs import SyncRunner
from tests.supervisor_data import MODEL, seed


@pytest.mark.parametrize("n,seed_", [(50, 0), (400, 1), (2000, 2)])
def test_pr_and_roc_curves_and_ap_equal_scikit_learns(n, seed_):
    rng = np.random.default_rng(seed_)
    y = rng.random(n) < 0.3
    s = np.round(np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1), 2)  # many ties
    prec, rec, thr = metrics.pr_curve(y, s)
    sp, sr, st = skm.precision_recall_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(prec, sp)
    np.testing.assert_allclose(rec, sr)
    np.testing.assert_allclose(thr, st)
    fpr, tpr, rthr = metrics.roc_curve(y, s)
    sf, stp, srt = skm.roc_curve(y, s, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sf)
    np.testing.assert_allclose(tpr, stp)
    np.testing.assert_allclose(rthr, srt)
    curve = class_curve("c", y, s)
    assert curve.ap == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)
    assert curve.roc_auc == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    for t in (0.05, 0.31, 0.5, 0.77, 0.99):
        pt = operating_point(curve, t, n)
        pred = s >= t
        assert pt.tp == int((pred & y).sum()) and pt.fp == int((pred & ~y).sum())
        if pred.any():
            assert pt.precision == pytest.approx(skm.precision_score(y, pred))
        assert pt.recall == pytest.approx(skm.recall_score(y, pred))


@pytest.fixture()
def world(tmp_path):
    """A supervisor's and an inspector's services on one seeded workspace."""
    sup_svc = LabelService.open(tmp_path / "ws", user="sue", role="supervisor")
    probs = seed(sup_svc._store, 60)
    insp_svc = LabelService.open(tmp_path / "ws", user="ana", role="inspector")
    yield sup_svc, insp_svc, probs
    sup_svc.close()
    insp_svc.close()


def controller(svc):
    ctl = MetricsController(SyncRunner())
    said: list[str] = []
    ctl.message.connect(said.append)
    ctl.set_service(svc.supervision())
    ctl.evaluate(MODEL, "all")
    return ctl, said


def test_evaluation_of_the_stored_scores(world):
    sup_svc, _, probs = world
    ctl, _ = controller(sup_svc)
    ev = ctl.state.evaluation
    assert ev.n == 60 and ev.classes[0] == "crazing"
    p = np.array(list(probs.values()))
    y = np.zeros_like(p, dtype=int)
    y[np.arange(60), np.arange(60) % 6] = 1
    for k, c in enumerate(ev.curves):
        assert c.ap == pytest.approx(skm.average_precision_score(y[:, k], p[:, k]))
    assert ev.macro_ap == pytest.approx(skm.average_precision_score(y, p, average="macro"))
    # the pairs at the active thresholds: 60 labelled plates, one class each
    got = []
    ctl.pairs_changed.connect(lambda m, names: got.append((m, names)))
    ctl.set_threshold(0, 0.5)
    m, names = got[-1]
    assert names[-1] == "no defect" and m[:, :6].sum() >= 60 - m[-1, :].sum()
    assert m.sum(axis=0)[:6].tolist() == [10] * 6


def test_a_slider_moves_the_point_and_counts(world):
    sup_svc, _, _ = world
    ctl, _ = controller(sup_svc)
    low = ctl.set_threshold(0, 0.005)
    high = ctl.set_threshold(0, 0.95)
    assert (
        low.recall == 1.0
        and low.fp == 50
        and low.false_alarms_per_1000 == pytest.approx(1000 * 50 / 60)
    )
    assert high.fp == 0 and high.fn > 0 and high.misses_per_1000 > 0
    assert ctl.dirty
    ctl.reset()
    assert not ctl.dirty


def test_a_supervisors_save_writes_a_revision_and_changes_the_queue(world):
    sup_svc, _, _ = world
    ctl, said = controller(sup_svc)
    queue = ReviewQueueController(SyncRunner())
    queue.set_service(sup_svc.supervision())
    ctl.saved.connect(lambda rev: queue.refresh())
    before = queue.total
    for k in range(6):
        ctl.set_threshold(k, 0.3)  # every doubtful 0.42-0.58 plate is now well over
    assert ctl.save("fewer misses")
    revs = sup_svc.supervision().revisions(MODEL)
    assert [r.revision for r in revs] == [1, 2]
    assert revs[-1].user == "sue" and revs[-1].reason == "fewer misses"
    assert revs[-1].previous == (0.5,) * 6 and revs[-1].thresholds == (0.3,) * 6
    assert "Saved threshold revision 2" in said[-1]
    assert queue.total != before
    assert sup_svc.active_thresholds(MODEL) == (0.3,) * 6
    assert not ctl.dirty


def test_an_inspectors_save_is_refused(world):
    _, insp_svc, _ = world
    ctl, said = controller(insp_svc)
    ctl.set_threshold(2, 0.7)
    assert not ctl.save("try")
    assert said[-1] == "only a supervisor can save thresholds (you are signed in as inspector)"
    assert len(insp_svc.supervision().revisions(MODEL)) == 1


def test_a_loaded_model_labels_with_the_active_revision(tmp_path, tiny_model_dir):
    from inspector.controllers.scoring import load_predictor

    svc = LabelService.open(tmp_path / "ws", user="sue", role="supervisor")
    card = load_predictor(str(tiny_model_dir), svc)
    new = [min(0.9, t + 0.1) for t in card.thresholds]
    svc._store.add_threshold_revision(card.version, new, user="sue", role="supervisor")
    again = load_predictor(str(tiny_model_dir), svc)
    assert again.thresholds == tuple(new) != card.thresholds
    assert again.prediction("x.png", np.full(len(new), 0.5)).thresholds == tuple(new)
    svc.close()
