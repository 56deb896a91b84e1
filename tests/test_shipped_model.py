"""The shipped default model on the real NEU test split (not timed): the bar in the README."""

from __future__ import annotations

import numpy as np
import pytest

from inspector import metrics
from inspector.registry import default_model_dir
from inspector.runtime.ort import OrtPredictor
from inspector.training.data import read_neu

TOP1_BAR = 0.9963  # 269/270: issue 13's bar
MACRO_AP_BAR = 0.999
UNFAMILIAR_BAR = 0.02  # at most 2 % of NEU test plates flagged as unfamiliar


@pytest.fixture(scope="module")
def test_split_scores(neu_dir):
    # The bar is on NEU-CLS's own per-image labels, the labels the default model is trained on
    # (the README reports the NEU-DET second-defect AP separately).
    pred = OrtPredictor(default_model_dir(), device="cpu")
    ds = read_neu(neu_dir)
    assert pred.classes == ds.classes
    samples = ds.split("test")
    probs = pred.predict_batch(np.stack([pred.card.preprocessing.load(s.path) for s in samples]))
    return ds, samples, probs, pred


def test_shipped_model_meets_the_accuracy_bar_on_the_neu_test_split(test_split_scores):
    ds, samples, probs, _ = test_split_scores
    assert len(samples) == 270
    top1 = metrics.top1_accuracy(np.array([s.primary for s in samples]), probs)
    ap = metrics.macro_ap(ds.targets(samples), probs)
    assert top1 >= TOP1_BAR, f"top-1 {top1:.4f} ({round((1 - top1) * 270)} errors)"
    assert ap >= MACRO_AP_BAR, f"macro AP {ap:.4f}"


def test_card_metrics_are_what_the_model_really_scores(test_split_scores, neu_dir, neu_det_dir):
    ds, samples, probs, pred = test_split_scores
    recorded = pred.card.metrics["test"]
    top1 = metrics.top1_accuracy(np.array([s.primary for s in samples]), probs)
    assert recorded["top1_accuracy"] == pytest.approx(top1, abs=1 / 270)
    # The hash covers the labels trained on: with the NEU-DET boxes' classes when it used them.
    if pred.card.training.get("boxes"):
        ds = read_neu(neu_dir, boxes=neu_det_dir)
    assert pred.card.data_hash == ds.content_hash(ds.split("train") + ds.split("val"))


def test_shipped_model_folder_is_small_and_complete():
    d = default_model_dir()
    sizes = {p.name: p.stat().st_size for p in d.iterdir()}
    assert {"model.onnx", "weights.safetensors", "card.json"} <= set(sizes)
    assert sum(sizes.values()) <= 20 * 2**20


def test_shipped_model_knows_neu_plates_and_flags_few_of_them(test_split_scores):
    _, samples, _, pred = test_split_scores
    flagged = [p.is_unfamiliar for p in pred.predict_paths([s.path for s in samples])]
    assert all(p.unfamiliar is not None for p in pred.predict_paths([samples[0].path]))
    assert sum(flagged) / len(flagged) <= UNFAMILIAR_BAR
    assert pred.card.calibration["temperatures"]  # calibrated on validation, folded in the head
