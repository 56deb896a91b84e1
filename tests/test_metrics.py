"""Pure-numpy metrics agree with scikit-learn on random and tied scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from inspector import metrics


@pytest.fixture(params=[0, 1, 2])
def data(request):
    rng = np.random.default_rng(request.param)
    y = (rng.random((300, 5)) < 0.3).astype(int)
    # Rounded scores create ties, the case hand-written AP code usually gets wrong.
    p = np.clip(y * 0.35 + rng.random((300, 5)) * 0.65, 0, 1).round(2)
    return y, p


def test_ap_and_auc_match_sklearn(data):
    y, p = data
    np.testing.assert_allclose(
        metrics.per_class_ap(y, p), skm.average_precision_score(y, p, average=None), atol=1e-12
    )
    np.testing.assert_allclose(
        metrics.per_class_auc(y, p), skm.roc_auc_score(y, p, average=None), atol=1e-12
    )
    assert metrics.macro_ap(y, p) == pytest.approx(
        skm.average_precision_score(y, p, average="macro")
    )


def test_precision_recall_f1_match_sklearn(data):
    y, p = data
    thr = np.array([0.3, 0.4, 0.5, 0.6, 0.7])
    pr, rc, f1 = metrics.precision_recall_f1(y, p, thr)
    sp, sr, sf, _ = skm.precision_recall_fscore_support(y, (p >= thr).astype(int), zero_division=0)
    np.testing.assert_allclose(pr, sp)
    np.testing.assert_allclose(rc, sr)
    np.testing.assert_allclose(f1, sf)


def test_top1_and_confusion_match_sklearn(data):
    _, p = data
    true = np.random.default_rng(9).integers(0, 5, len(p))
    assert metrics.top1_accuracy(true, p) == pytest.approx(skm.accuracy_score(true, p.argmax(1)))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(true, p.argmax(1), 5),
        skm.confusion_matrix(true, p.argmax(1), labels=range(5)),
    )


def test_per_image_bce_matches_sklearn_log_loss(data):
    y, p = data
    p = np.clip(p, 0.01, 0.99)
    mine = metrics.per_image_bce(y, p)
    for i in (0, 17, 123):
        ref = skm.log_loss(y[i], p[i], labels=[0, 1])
        assert mine[i] == pytest.approx(ref, rel=1e-9)
    assert np.argmax(mine) == np.argmax(
        [skm.log_loss(y[i], p[i], labels=[0, 1]) for i in range(len(y))]
    )


def test_best_f1_thresholds_reach_the_best_f1(data):
    y, p = data
    thr = metrics.best_f1_thresholds(y, p)
    _, _, f1 = metrics.precision_recall_f1(y, p, thr)
    for k in range(y.shape[1]):
        best = max(skm.f1_score(y[:, k], p[:, k] >= t) for t in np.unique(p[:, k]))
        assert f1[k] == pytest.approx(best)


def test_undefined_cases_are_nan_not_crash():
    y = np.zeros((4, 1), int)
    p = np.array([[0.1], [0.2], [0.3], [0.4]])
    assert np.isnan(metrics.average_precision(y[:, 0], p[:, 0]))
    assert np.isnan(metrics.roc_auc(y[:, 0], p[:, 0]))
