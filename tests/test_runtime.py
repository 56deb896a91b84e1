"""Export + ONNX Runtime: parity with torch, honest device reporting, clean errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from inspector.domain import ImageLoadError, ModelError
from inspector.registry import read_card
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.torch_model import load_torch_model

from .conftest import make_model_version, synthetic_plate


def test_exported_onnx_matches_torch_within_1e4(tiny_model_dir):
    import torch

    model, card = load_torch_model(tiny_model_dir)
    x = np.random.default_rng(3).normal(0, 1, (5, 1, 48, 48)).astype(np.float32)
    with torch.no_grad():
        pt = torch.sigmoid(model(torch.from_numpy(x))).numpy()
    po = OrtPredictor(tiny_model_dir).predict_batch(x)
    assert po.shape == (5, len(card.classes))
    assert np.abs(pt - po).max() < 1e-4
    assert card.metrics["onnx_parity_max_abs_diff"] < 1e-4


def test_dynamic_batch_gives_the_same_answer_per_image(tiny_model_dir):
    pred = OrtPredictor(tiny_model_dir)
    x = np.random.default_rng(0).normal(0, 1, (7, 1, 48, 48)).astype(np.float32)
    together = pred.predict_batch(x)
    alone = np.concatenate([pred.predict_batch(x[i : i + 1]) for i in range(7)])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_cpu_machine_reports_cpu_with_a_reason_and_no_ort_noise(tiny_model_dir, capfd):
    pred = OrtPredictor(tiny_model_dir, device="auto")
    _, err = capfd.readouterr()
    assert pred.providers[-1] == "CPUExecutionProvider"
    if pred.device == "CPU":
        assert pred.device_reason  # e.g. "no NVIDIA GPU driver found"
        assert "onnxruntime" not in err and "[E:" not in err, err
    explicit = OrtPredictor(tiny_model_dir, device="cpu")
    assert explicit.device == "CPU" and explicit.device_reason == "CPU requested"


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(tiny_model_dir):
    pred = OrtPredictor(tiny_model_dir)
    if pred.device == "CUDA":
        pytest.skip("this machine has a working CUDA GPU")
    with pytest.raises(ModelError, match="CUDA was requested"):
        OrtPredictor(tiny_model_dir, device="cuda")


def test_predict_paths_reports_bad_files_and_continues(tiny_model_dir, tmp_path):
    import cv2

    good = [tmp_path / f"g{i}.png" for i in range(3)]
    for i, p in enumerate(good):
        cv2.imwrite(str(p), synthetic_plate(i, 100))
    bad = tmp_path / "bad.bmp"
    bad.write_bytes(b"BM not really")
    results = list(
        OrtPredictor(tiny_model_dir).predict_paths([good[0], bad, good[1], good[2]], batch_size=2)
    )
    errors = [r for r in results if isinstance(r, ImageLoadError)]
    preds = [r for r in results if not isinstance(r, ImageLoadError)]
    assert [e.path for e in errors] == [str(bad)]
    assert sorted(p.path for p in preds) == sorted(map(str, good))
    assert all(
        len(p.probabilities) == 3 and all(0 <= v <= 1 for v in p.probabilities) for p in preds
    )


def test_model_folder_problems_are_model_errors(tiny_model_dir, tmp_path):
    with pytest.raises(ModelError, match="not found"):
        OrtPredictor(tmp_path / "missing")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.onnx").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="ONNX Runtime cannot load"):
        OrtPredictor(broken)
    (broken / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        read_card(broken)
    newer = tmp_path / "newer"
    shutil.copytree(tiny_model_dir, newer)
    card = json.loads((newer / "card.json").read_text())
    card["schema"] = 99
    (newer / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="newer"):
        read_card(newer)


def test_reexport_replaces_a_version_atomically(tmp_path):
    out = make_model_version(tmp_path / "v", seed=1)
    first = (out / "model.onnx").read_bytes()
    make_model_version(tmp_path / "v", seed=2)
    assert (out / "model.onnx").read_bytes() != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]  # no staging leftovers


def test_half_weights_halve_the_file_and_keep_onnx_and_torch_in_agreement(tmp_path):
    import torch

    full = make_model_version(tmp_path / "full", seed=4)
    from inspector.runtime.export import export_model_version

    model, card = load_torch_model(full)
    half, diff = export_model_version(model, card, tmp_path / "half", weights_dtype="float16")
    ratio = (half / "weights.safetensors").stat().st_size / (
        full / "weights.safetensors"
    ).stat().st_size
    assert 0.45 < ratio < 0.55
    assert diff < 1e-4 and read_card(half).training["weights_dtype"] == "float16"
    reloaded, _ = load_torch_model(half)  # float16 file, upcast on load
    assert all(p.dtype == torch.float32 for p in reloaded.parameters())
    x = np.random.default_rng(5).normal(0, 1, (3, 1, 48, 48)).astype(np.float32)
    with torch.no_grad():
        pt = torch.sigmoid(reloaded(torch.from_numpy(x))).numpy()
    assert np.abs(pt - OrtPredictor(half).predict_batch(x)).max() < 1e-4
