"""Issue 14 item 10, weights and model exports: a corrupt ``weights.safetensors`` (explain, export
model, train --teacher), a malicious ``.pt`` for --pretrained, and an export to a read-only or full
disk each end with one line, exit 2, and nothing half-written left behind."""

from __future__ import annotations

import os
import shutil

import pytest

from .corpus import inspector, inspector_limited, one_clear_line, plate, without_root_powers

CORRUPTIONS = {
    "garbage": lambda data: b"\xff" * 64,
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
}


def _corrupt_copy(tiny_model_dir, tmp_path, how: str = "truncated"):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    f = model / "weights.safetensors"
    f.write_bytes(CORRUPTIONS[how](f.read_bytes()))
    return model


@pytest.fixture()
def corrupt_model(tiny_model_dir, tmp_path):
    return _corrupt_copy(tiny_model_dir, tmp_path)


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_every_kind_of_corrupt_weights_is_a_model_error(tiny_model_dir, tmp_path, how):
    from inspector.domain import ModelError
    from inspector.runtime.torch_model import load_torch_model

    model = _corrupt_copy(tiny_model_dir, tmp_path, how)
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        load_torch_model(model)


def _says_weights_are_corrupt(r) -> None:
    line = one_clear_line(r)
    assert r.returncode == 2, r.stderr
    assert "weights.safetensors" in line and "not a readable safetensors file" in line, line


def test_explain_with_corrupt_weights(corrupt_model, tmp_path):
    img = plate(tmp_path / "plate.png")
    out = tmp_path / "heat.png"
    # expected gradients read the torch weights (the default, region SHAP, reads model.onnx only)
    argv = ["explain", str(img), "--model", str(corrupt_model), "--out", str(out)]
    r = inspector(*argv, "--method", "gradients")
    _says_weights_are_corrupt(r)
    assert not out.exists()


def test_export_model_with_corrupt_weights(corrupt_model, tmp_path):
    r = inspector("export", "model", str(corrupt_model), "--out", str(tmp_path / "v2"))
    _says_weights_are_corrupt(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no v2, no staging folder


def test_train_with_a_corrupt_teacher(corrupt_model, make_imagefolder, tmp_path):
    data = make_imagefolder(per_class=6, size=48)
    r = inspector(
        "train", "--data", str(data), "--out", str(tmp_path / "run"), "--teacher",
        str(corrupt_model), "--pretrained", "none", "--arch", "mobilenetv3_small_050",
        "--size", "48", "--epochs", "1",
    )  # fmt: skip
    _says_weights_are_corrupt(r)


def test_a_malicious_pt_for_pretrained_is_refused_and_never_run(make_imagefolder, tmp_path):
    import torch

    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "weights.pt"
    torch.save({"conv.weight": Payload()}, evil)
    data = make_imagefolder(per_class=6, size=48)
    r = inspector(
        "train", "--data", str(data), "--out", str(tmp_path / "run"), "--pretrained", str(evil),
        "--arch", "mobilenetv3_small_050", "--size", "48", "--epochs", "1",
    )  # fmt: skip
    line = one_clear_line(r)
    assert not marker.exists()
    assert r.returncode == 2 and str(evil) in line and "refused" in line, line
    assert "weights_only" not in line  # torch's advice to turn the guard off is not repeated


def test_a_pt_that_is_not_a_torch_file_is_named_as_such(make_imagefolder, tmp_path):
    junk = tmp_path / "weights.pt"
    junk.write_bytes(b"not a checkpoint at all")
    data = make_imagefolder(per_class=6, size=48)
    r = inspector(
        "train", "--data", str(data), "--out", str(tmp_path / "run"), "--pretrained", str(junk),
        "--arch", "mobilenetv3_small_050", "--size", "48", "--epochs", "1",
    )  # fmt: skip
    line = one_clear_line(r)
    assert "not a PyTorch weights file" in line, line


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_model_to_a_read_only_folder(tiny_model_dir, tmp_path):
    prefix = without_root_powers()
    target = tmp_path / "readonly"
    target.mkdir()
    target.chmod(0o555)
    try:
        r = inspector_limited(
            ["export", "model", str(tiny_model_dir), "--out", str(target / "v2")], prefix
        )
    finally:
        target.chmod(0o755)
    line = one_clear_line(r)
    assert r.returncode == 2 and "cannot write" in line and "ermission denied" in line, line
    assert _leftovers(target) == []


def test_export_model_to_a_full_disk_leaves_nothing_behind(tiny_model_dir, tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    # 64 KiB per file: the ONNX graph of the tiny model is larger, so its write fails midway.
    r = inspector_limited(
        ["export", "model", str(tiny_model_dir), "--out", str(target / "v2")], file_limit=65536
    )
    line = one_clear_line(r)
    assert r.returncode == 2 and "cannot write" in line, line
    assert "File too large" in line or "No space left" in line, line
    assert _leftovers(target) == []


def test_export_model_never_replaces_a_folder_that_is_not_a_model(tiny_model_dir, tmp_path):
    # Found by the campaign: --out ~/Documents renamed the folder away and deleted it.
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "thesis.txt").write_text("years of work")
    r = inspector("export", "model", str(tiny_model_dir), "--out", str(docs))
    line = one_clear_line(r)
    assert "not a model version folder" in line and "thesis.txt" in line, line
    assert (docs / "thesis.txt").read_text() == "years of work"
    assert _leftovers(tmp_path) == ["Documents"]


def test_export_model_onto_its_own_source_is_refused(tiny_model_dir, tmp_path):
    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    before = sorted(p.name for p in model.iterdir())
    r = inspector("export", "model", str(model), "--out", str(tmp_path / "." / "model"))
    assert "is the model being exported" in one_clear_line(r)
    assert sorted(p.name for p in model.iterdir()) == before


def test_weights_holding_nan_are_refused_when_loaded(tiny_model_dir, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from inspector.domain import ModelError
    from inspector.runtime.torch_model import load_torch_model

    model = shutil.copytree(tiny_model_dir, tmp_path / "model")
    state = load_file(str(model / "weights.safetensors"))
    name = next(k for k, v in state.items() if v.is_floating_point() and v.ndim == 4)
    state[name] = torch.full_like(state[name], float("nan"))
    save_file(state, str(model / "weights.safetensors"))
    with pytest.raises(ModelError, match=f"NaN or infinite values \\(first: {name}\\)"):
        load_torch_model(model)
