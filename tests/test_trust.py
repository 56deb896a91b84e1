"""Calibration and the unfamiliar-plate score on real (tiny) exported models: no mocks."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from inspector import metrics
from inspector.domain import ModelError
from inspector.registry import ModelCard, read_card, write_card
from inspector.runtime.ort import OrtPredictor
from inspector.trust import calibration

from .conftest import TINY_CLASSES, synthetic_plate

SIZE = 48


def _plates(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    x = [synthetic_plate(c, SIZE, seed=seed + i) for c in range(3) for i in range(per_class)]
    return np.stack(x), np.repeat(np.arange(3), per_class)


@pytest.fixture(scope="module")
def trusted(tmp_path_factory):
    """A tiny timm model, calibrated and scored by fit_trust, exported with two outputs."""
    import torch

    from inspector.imageio import PreprocessSpec
    from inspector.runtime.export import export_model_version
    from inspector.runtime.torch_model import build_model
    from inspector.trust.fit import fit_trust

    torch.manual_seed(0)
    spec = PreprocessSpec(size=SIZE, channels=1, mean=(0.5,), std=(0.5,))
    model = build_model("mobilenetv3_small_050", 3, 1).eval()
    x_train, c_train = _plates(12, 0)
    x_val, c_val = _plates(6, 100)
    y_val = np.eye(3)[c_val]
    trust = fit_trust(model, spec, x_train, c_train, x_val, y_val, "cpu")
    card = ModelCard(
        version="tiny-trust",
        architecture="mobilenetv3_small_050",
        classes=TINY_CLASSES,
        preprocessing=spec,
        thresholds=(0.5, 0.5, 0.5),
    )
    card = trust.apply(card)
    parity = np.stack([spec.normalize(a) for a in x_val[:8]])
    out, _ = export_model_version(
        model, card, tmp_path_factory.mktemp("m") / "v", parity, outputs=trust.scored(model)
    )
    return out, trust, spec, x_val


def test_the_graph_has_both_outputs_and_parity_covers_both(trusted):
    out, trust, spec, x_val = trusted
    pred = OrtPredictor(out, device="cpu")
    names = [o.name for o in pred._session.get_outputs()]
    assert names == ["logits", "unfamiliar"]
    card = read_card(out)
    assert card.metrics["onnx_parity_unfamiliar_max_rel_diff"] <= 1e-3
    assert card.unfamiliar["threshold"] == trust.unfamiliar["threshold"]
    assert card.calibration["temperatures"] == trust.calibration["temperatures"]
    logits, scores = pred.scores(np.stack([spec.normalize(a) for a in x_val]))
    assert scores.shape == (len(x_val),)
    # The graph computes what the numpy statistics compute on the same validation plates.
    np.testing.assert_allclose(scores, trust.val_scores, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(metrics.sigmoid(logits), trust.val_probs, atol=1e-4)


def test_predictions_carry_the_score_and_flag_unlike_images(trusted, tmp_path):
    import cv2

    out, trust, _, _ = trusted
    plate, noise = tmp_path / "plate.png", tmp_path / "noise.png"
    cv2.imwrite(str(plate), synthetic_plate(0, SIZE, seed=500))
    rng = np.random.default_rng(1)
    cv2.imwrite(str(noise), (rng.random((SIZE, SIZE)) > 0.5).astype(np.uint8) * 255)
    pred = OrtPredictor(out, device="cpu")
    got = {p.path.split("/")[-1]: p for p in pred.predict_paths([plate, noise])}
    assert got["plate.png"].unfamiliar_threshold == trust.unfamiliar["threshold"]
    assert got["noise.png"].unfamiliar > got["plate.png"].unfamiliar
    assert got["noise.png"].is_unfamiliar
    assert not got["plate.png"].is_unfamiliar


def test_a_nan_score_reads_as_unfamiliar_never_familiar(trusted):
    from inspector.commands.predict import _as_json

    pred = OrtPredictor(trusted[0], device="cpu")
    p = pred.prediction("x.png", np.array([0.1, 0.2, 0.9]), float("nan"))
    assert p.is_unfamiliar
    row = _as_json(p)
    assert row["is_unfamiliar"] is True and row["unfamiliar"] is None
    json.dumps(row, allow_nan=False)  # valid JSON


def test_an_old_one_output_model_loads_with_no_score(tiny_model_dir, tmp_path):
    import cv2

    f = tmp_path / "a.png"
    cv2.imwrite(str(f), synthetic_plate(1, SIZE))
    pred = OrtPredictor(tiny_model_dir, device="cpu")
    assert pred.unfamiliar_threshold is None
    (p,) = pred.predict_paths([f])
    assert p.unfamiliar is None and p.unfamiliar_threshold is None and not p.is_unfamiliar
    logits, scores = pred.scores(np.zeros((2, 1, 48, 48), np.float32))
    assert logits.shape == (2, 3) and scores is None


def test_a_card_promising_a_score_its_graph_lacks_is_refused(tiny_model_dir, tmp_path):
    import shutil

    d = tmp_path / "v"
    shutil.copytree(tiny_model_dir, d)
    card = read_card(d)
    write_card(d, replace(card, unfamiliar={"output": "unfamiliar", "threshold": 2.0}))
    with pytest.raises(ModelError, match="no such output"):
        OrtPredictor(d, device="cpu")
    bad = json.loads((d / "card.json").read_text())
    bad["unfamiliar"] = {"output": "unfamiliar", "threshold": "high"}
    (d / "card.json").write_text(json.dumps(bad))
    with pytest.raises(ModelError, match=r"unfamiliar\.threshold"):
        read_card(d)


def _overconfident(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits 8x too large for a 80 %-right classifier: the textbook over-confident model."""
    rng = np.random.default_rng(seed)
    y = rng.random((n, 2)) < 0.5
    z = np.where(y, 1.0, -1.0) * 1.4 + rng.normal(0, 1, (n, 2))
    return 8 * z, y.astype(float)


def test_temperatures_soften_an_overconfident_model_and_improve_bce_and_ece():
    z, y = _overconfident()
    t = calibration.fit_temperatures(z, y)
    assert (t > 2).all() and (t <= calibration.T_MAX).all()  # the true factor is 8 / 2.8
    rep = calibration.report(z, y, t)
    assert rep["val_bce_after"] < 0.7 * rep["val_bce_before"]
    assert rep["val_mean_ece_after"] < 0.5 * rep["val_mean_ece_before"]
    # Held-out data from the same model: the gain is real, not fitted noise.
    z2, y2 = _overconfident(seed=1)
    before = metrics.per_image_bce(y2, metrics.sigmoid(z2)).mean()
    after = metrics.per_image_bce(y2, metrics.sigmoid(z2 / t)).mean()
    assert after < 0.7 * before


def test_a_class_validation_separates_perfectly_keeps_t_1():
    z = np.array([[5.0], [4.0], [-3.0], [-6.0]])
    y = np.array([[1.0], [1.0], [0.0], [0.0]])
    assert calibration.fit_temperatures(z, y).tolist() == [1.0]


def test_folding_into_the_head_divides_logits_and_keeps_decisions():
    import torch

    from inspector.runtime.torch_model import build_model

    torch.manual_seed(0)
    model = build_model("mobilenetv3_small_050", 3, 1).eval()
    x = torch.randn(6, 1, SIZE, SIZE)
    with torch.no_grad():
        before = model(x).numpy()
    t = np.array([0.5, 2.0, 7.0])
    calibration.fold_temperatures(model, t)
    with torch.no_grad():
        after = model(x).numpy()
    np.testing.assert_allclose(after, before / t, rtol=1e-5, atol=1e-6)
    thr = np.array([0.3, 0.5, 0.8])
    mapped = metrics.sigmoid(np.log(thr / (1 - thr)) / t)
    assert ((metrics.sigmoid(before) >= thr) == (metrics.sigmoid(after) >= mapped)).all()


def test_fit_trust_keeps_the_validation_decisions_and_records_the_card_fields(trusted):
    _, trust, _, _ = trusted
    cal, unf = trust.calibration, trust.unfamiliar
    assert len(cal["temperatures"]) == 3
    assert all(calibration.T_MIN <= t <= calibration.T_MAX for t in cal["temperatures"])
    assert {"val_ece_before", "val_ece_after", "search", "separable"} <= set(cal)
    assert unf["output"] == "unfamiliar" and math.isfinite(unf["threshold"])
    assert unf["val_flagged"] <= 0.1 and unf["n_train"] == 36
    assert all(0 < t < 1 for t in trust.thresholds)


def test_export_model_keeps_the_unfamiliar_score_read_back_from_the_graph(trusted, tmp_path):
    from .test_cli import inspector

    out, trust, spec, x_val = trusted
    r = inspector("export", "model", str(out), "--out", str(tmp_path / "v2"), "--version", "v2")
    assert r.returncode == 0, r.stderr
    assert "without the unfamiliar-plate score" not in r.stdout
    card = read_card(tmp_path / "v2")
    assert card.unfamiliar["threshold"] == trust.unfamiliar["threshold"]
    x = np.stack([spec.normalize(a) for a in x_val])
    _, before = OrtPredictor(out, device="cpu").scores(x)
    _, after = OrtPredictor(tmp_path / "v2", device="cpu").scores(x)
    np.testing.assert_allclose(after, before, rtol=1e-4)


def test_export_model_without_statistics_in_the_graph_says_so_and_drops_the_promise(
    tiny_model_dir, tmp_path
):
    import shutil

    from .test_cli import inspector

    d = tmp_path / "v"
    shutil.copytree(tiny_model_dir, d)
    write_card(d, replace(read_card(d), unfamiliar={"output": "unfamiliar", "threshold": 2.0}))
    r = inspector("export", "model", str(d), "--out", str(tmp_path / "v2"))
    assert r.returncode == 0, r.stderr
    assert "without the unfamiliar-plate score" in r.stdout and "calibrate" in r.stdout
    assert not read_card(tmp_path / "v2").unfamiliar
    OrtPredictor(tmp_path / "v2", device="cpu")  # loads: the card promises nothing it lacks


def test_export_model_from_a_folder_whose_graph_is_missing_or_corrupt_says_so_in_one_line(
    trusted, tmp_path
):
    import shutil

    from .test_cli import inspector

    d = tmp_path / "v"
    shutil.copytree(trusted[0], d)
    (d / "model.onnx").unlink()
    r = inspector("export", "model", str(d), "--out", str(tmp_path / "a"))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "without the unfamiliar-plate score" in r.stdout and "cannot read" in r.stdout
    (d / "model.onnx").write_bytes(b"not a graph")
    r = inspector("export", "model", str(d), "--out", str(tmp_path / "b"))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert not read_card(tmp_path / "b").unfamiliar
