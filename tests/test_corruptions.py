"""The robustness benchmark's corruptions: shape and dtype kept, input untouched, deterministic
per seed, identity at strength 0, and each one does what its name says."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.corruptions import (
    CORRUPTIONS,
    brightness,
    corrupt,
    gaussian_blur,
    gaussian_noise,
    illumination_gradient,
    jpeg,
)


@pytest.fixture()
def plate() -> np.ndarray:
    rng = np.random.default_rng(0)
    base = np.full((200, 200), 120.0) + 30 * np.sin(np.arange(200) / 7.0)[None, :]
    return np.clip(base + rng.normal(0, 10, (200, 200)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_shape_dtype_kept_input_untouched_and_seeded(name, plate):
    before = plate.copy()
    out = corrupt(name, plate, seed=5)
    assert out.shape == plate.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(plate, before)
    np.testing.assert_array_equal(out, corrupt(name, plate, seed=5))
    assert not np.array_equal(out, plate)


@pytest.mark.parametrize("name", CORRUPTIONS)
def test_zero_strength_is_the_clean_plate(name, plate):
    out = corrupt(name, plate, seed=1, strength=0)
    np.testing.assert_array_equal(out, plate)
    assert out is not plate


def test_seed_changes_the_random_ones_only(plate):
    assert not np.array_equal(gaussian_noise(plate, seed=1), gaussian_noise(plate, seed=2))
    assert not np.array_equal(
        illumination_gradient(plate, seed=1), illumination_gradient(plate, seed=2)
    )
    np.testing.assert_array_equal(corrupt("jpeg", plate, seed=1), corrupt("jpeg", plate, seed=2))


def test_noise_has_the_asked_sigma():
    flat = np.full((400, 400), 128, np.uint8)
    diff = gaussian_noise(flat, 0.05, seed=0).astype(float) - 128
    assert abs(diff.mean()) < 0.2 and diff.std() == pytest.approx(0.05 * 255, rel=0.03)


def test_blur_smooths_and_keeps_the_mean(plate):
    out = gaussian_blur(plate, 1.5).astype(float)
    assert out.std() < plate.std() and out.mean() == pytest.approx(plate.mean(), abs=0.5)


def test_brightness_scales_and_clips():
    img = np.array([[0, 100, 240]], np.uint8)
    np.testing.assert_array_equal(brightness(img, 1.25), [[0, 125, 255]])
    np.testing.assert_array_equal(brightness(img, 0.75), [[0, 75, 180]])


def test_illumination_ramp_spans_0_6_to_1_4():
    flat = np.full((200, 200), 100, np.uint8)
    for seed in range(5):
        out = illumination_gradient(flat, 0.6, 1.4, seed=seed)
        assert out.min() == 60 and out.max() == 140
        assert abs(float(out.mean()) - 100) < 1  # gain 1 on average: only uneven, not darker


def test_jpeg_quality_matters(plate):
    err50 = np.abs(jpeg(plate, 50).astype(int) - plate).mean()
    err95 = np.abs(jpeg(plate, 95).astype(int) - plate).mean()
    assert 0 < err95 < err50


def test_bad_arguments_are_refused(plate):
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt("fog", plate)
    with pytest.raises(ValueError, match="2-D uint8"):
        corrupt("jpeg", plate.astype(np.float32))
    with pytest.raises(ValueError, match="strength"):
        corrupt("jpeg", plate, strength=-1)
    with pytest.raises(ValueError, match="quality"):
        jpeg(plate, 0)
