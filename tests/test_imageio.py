"""The one image loader: every format a user may have, and one clear error for every bad file."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from inspector.domain import ImageLoadError
from inspector.imageio import PreprocessSpec, iter_image_files, load_image

from .conftest import synthetic_plate


@pytest.fixture()
def plate() -> np.ndarray:
    return synthetic_plate(0, size=80, seed=1)


@pytest.mark.parametrize("ext", [".bmp", ".png", ".jpg", ".tif"])
def test_8bit_gray_formats_roundtrip(tmp_path, plate, ext):
    path = tmp_path / f"plate{ext}"
    cv2.imwrite(str(path), plate)
    img = load_image(path)
    assert img.dtype == np.uint8 and img.shape == plate.shape
    tol = 12 if ext == ".jpg" else 0  # JPEG is lossy
    assert np.abs(img.astype(int) - plate).mean() <= tol


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_gray_is_scaled_to_8bit(tmp_path, plate, ext):
    path = tmp_path / f"deep{ext}"
    cv2.imwrite(str(path), plate.astype(np.uint16) * 257)  # full 16-bit range
    img = load_image(path)
    assert img.dtype == np.uint8
    np.testing.assert_allclose(img, plate, atol=1)


def test_rgb_and_rgba_become_gray(tmp_path, plate):
    rgb = np.dstack([plate, plate, plate])
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(np.dstack([rgb, np.full_like(plate, 7)])).save(tmp_path / "rgba.png")
    for name in ("rgb.png", "rgba.png"):
        img = load_image(tmp_path / name)
        assert img.shape == plate.shape
        np.testing.assert_allclose(img, plate, atol=1)


def test_unicode_path(tmp_path, plate):
    folder = tmp_path / "Prüfung 检查"
    folder.mkdir()
    path = folder / "Blech_ü.png"
    Image.fromarray(plate).save(path)
    assert load_image(path).shape == plate.shape


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"this is not an image at all" * 10, "not an image"),
    ],
)
def test_bad_bytes_raise_one_clear_error(tmp_path, content, reason):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as err:
        load_image(path)
    assert err.value.path == str(path)
    assert reason in err.value.reason


@pytest.mark.parametrize("ext", [".png", ".jpg", ".bmp"])
def test_truncated_file_is_refused_not_half_loaded(tmp_path, plate, ext):
    good = tmp_path / f"good{ext}"
    cv2.imwrite(str(good), plate)
    data = good.read_bytes()
    bad = tmp_path / f"cut{ext}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as err:
        load_image(bad)
    assert str(bad) in str(err.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageLoadError, match="file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("shape", [(200, 200), (37, 311), (1024, 768)])
def test_preprocess_any_size_to_model_input(shape):
    spec = PreprocessSpec(size=64, channels=1, mean=(0.5,), std=(0.5,))
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    x = spec.apply(img)
    assert x.shape == (1, 64, 64) and x.dtype == np.float32
    assert x.min() >= -1.0 and x.max() <= 1.0  # (v/255 - 0.5) / 0.5


def test_preprocess_is_exactly_the_card_arithmetic():
    spec = PreprocessSpec(size=4, channels=3, mean=(0.5, 0.4, 0.3), std=(0.5, 0.2, 0.1))
    img = np.full((4, 4), 255, np.uint8)
    x = spec.apply(img)
    np.testing.assert_allclose(
        x[:, 0, 0], [(1 - 0.5) / 0.5, (1 - 0.4) / 0.2, (1 - 0.3) / 0.1], rtol=1e-6
    )
    assert PreprocessSpec.from_dict(spec.to_dict()) == spec


def test_iter_image_files_recurses_and_filters(tmp_path, plate):
    (tmp_path / "a" / "b").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "a" / "x.png"), plate)
    cv2.imwrite(str(tmp_path / "a" / "b" / "y.BMP"), plate)
    (tmp_path / "a" / "notes.txt").write_text("hi")
    found = iter_image_files([tmp_path / "a"])
    assert [p.name for p in found] == ["y.BMP", "x.png"] or sorted(p.name for p in found) == [
        "x.png",
        "y.BMP",
    ]
    assert len(found) == 2
