"""Clear errors for bad input, and the CLI (one-line errors, PNG output, background)."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from inspector import jobs
from inspector.__main__ import main
from inspector.domain import ImageLoadError, ModelError
from inspector.explain import Explainer
from inspector.registry import WEIGHTS_FILE


def test_a_bad_image_raises_image_load_error(model_with_background, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    explainer = Explainer(model_with_background)
    with pytest.raises(ImageLoadError, match=r"broken\.png"):
        explainer.explain(bad)
    with pytest.raises(ImageLoadError, match="not found"):
        explainer.cached(tmp_path / "missing.bmp")


def test_a_model_without_weights_raises_model_error(model_with_background, tmp_path):
    d = tmp_path / "noweights"
    shutil.copytree(model_with_background, d)
    (d / WEIGHTS_FILE).unlink()
    with pytest.raises(ModelError, match=r"weights\.safetensors is missing"):
        Explainer(d)
    with pytest.raises(ModelError, match="not a model folder"):
        Explainer(tmp_path)


def test_an_unknown_class_is_a_model_error(model_with_background, plate_png):
    with pytest.raises(ModelError, match="unknown class 'rust'"):
        Explainer(model_with_background).explain(plate_png, classes=["rust"])


def test_without_training_data_the_fallback_background_is_used_and_said(tiny_model_dir, plate_png):
    expl = jobs.run(Explainer(tiny_model_dir).explain(plate_png))
    assert expl.background_source.startswith("fallback")
    assert np.isfinite(expl.maps).all()


def test_background_is_built_from_the_training_folder_and_stored_in_the_workspace(
    tiny_model_dir, plate_png, training_folder, tmp_path
):
    a = Explainer(tiny_model_dir, data_dir=training_folder, cache=tmp_path / "c")
    assert a.background.images.shape == (12, 48, 48)  # 4 per class, model size, uint8
    assert sorted(set(a.background.labels)) == ["crazing", "inclusion", "scratches"]
    stored = list((tmp_path / "c" / "backgrounds").glob("*.npz"))
    assert len(stored) == 1
    b = Explainer(tiny_model_dir, cache=tmp_path / "c")  # no data dir now: the stored set is used
    np.testing.assert_array_equal(a.background.images, b.background.images)


def test_cli_writes_a_png_and_prints_each_class(model_with_background, plate_png, tmp_path, capsys):
    out = tmp_path / "heat.png"
    rc = main(
        [
            "explain",
            str(plate_png),
            "--model",
            str(model_with_background),
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "c"),
            "--gradcam",
            "--method",  # the background set is an expected-gradients thing (regions blur)
            "gradients",
        ]
    )
    assert rc == 0
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] >= 96 and img.shape[1] > 6 * 80
    printed = capsys.readouterr()
    assert "scratches" in printed.out and "edge share" in printed.out
    assert "background: training data" in printed.err
    rc = main(
        [
            "explain",
            str(plate_png),
            "--class",
            "scratches",
            "--model",
            str(model_with_background),
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "c"),
            "--method",
            "gradients",
        ]
    )
    assert rc == 0 and "(cache)" in capsys.readouterr().err


def test_cli_default_is_region_shap_which_adds_up_and_gradcam_is_named_apart(
    model_with_background, plate_png, tmp_path, capsys
):
    out = tmp_path / "heat.png"
    common = ["--model", str(model_with_background), "--out", str(out), "--no-cache"]
    assert main(["explain", str(plate_png), *common]) == 0
    printed = capsys.readouterr()
    assert printed.err.startswith("SHAP · regions (Owen values)")
    assert "background: blur(16,16) of the image" in printed.err
    for line in printed.out.splitlines():  # "logit L ≈ base B + attributions A": exact here
        logit = float(line.split("logit ")[1].split()[0])
        base = float(line.split("base ")[1].split()[0])
        attr = float(line.split("attributions ")[1].split()[0])
        assert abs(logit - base - attr) <= 0.011 and "(300 masked images)" in line
    cams = {}
    for method in ("gradcam", "gradcam++"):
        values = tmp_path / f"{method}.npy"
        argv = [*common, "--method", method, "--save-values", str(values)]
        assert main(["explain", str(plate_png), *argv]) == 0
        printed = capsys.readouterr()
        name = "Grad-CAM++" if method.endswith("++") else "Grad-CAM"
        assert f"{name} (not SHAP" in printed.err and "SHAP ·" not in printed.err
        assert all(line.split()[1] == name for line in printed.out.splitlines())
        assert cv2.imread(str(out)) is not None
        cams[method] = np.load(values)
        assert cams[method].shape == (3, 96, 80) and (cams[method] >= 0).all()
    assert not np.allclose(cams["gradcam"], cams["gradcam++"])  # two different views


def test_cli_errors_are_one_line(model_with_background, tmp_path, capsys):
    rc = main(
        [
            "explain",
            str(tmp_path / "nope.bmp"),
            "--model",
            str(model_with_background),
            "--out",
            str(tmp_path / "o.png"),
            "--no-cache",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("inspector: error:") and err.count("\n") == 1
    rc = main(["explain", "--model", str(tmp_path), "--out", "o.png", "x.bmp"])
    assert rc == 2 and "not a model folder" in capsys.readouterr().err


def test_cli_make_background_stores_it_in_the_model_folder(
    tiny_model_dir, training_folder, tmp_path, capsys
):
    d = tmp_path / "m"
    shutil.copytree(tiny_model_dir, d)
    assert (
        main(["explain", "--make-background", "--model", str(d), "--data", str(training_folder)])
        == 0
    )
    assert (d / "background.npz").is_file()
    assert Explainer(d).background.source.startswith("training data")


def test_cli_saves_the_raw_signed_maps_for_anyone_to_score(
    model_with_background, plate_png, tmp_path
):
    common = ["--model", str(model_with_background), "--cache", str(tmp_path / "c")]
    every = tmp_path / "all.npy"
    assert main(["explain", str(plate_png), *common, "--save-values", str(every)]) == 0
    maps = np.load(every)
    assert maps.dtype == np.float32 and maps.shape == (3, 96, 80)  # classes × the image's H × W
    one = tmp_path / "scratches.npy"
    argv = ["explain", str(plate_png), "--class", "scratches", *common, "--save-values", str(one)]
    assert main(argv) == 0
    # the card's order: scratches is the third class; the same map as in the full set (the
    # full set went through the cache, which keeps float16)
    np.testing.assert_allclose(np.load(one), maps[2], rtol=2e-3, atol=1e-3 * np.abs(maps).max())
    assert (maps > 0).any() and (maps < 0).any()  # signed, not a rendered picture
