"""Rendering: sizes, value range, colours (red toward, blue against), colour bar, PNG."""

from __future__ import annotations

import cv2
import numpy as np

from inspector.explain import render_overlay, save_png
from inspector.explain.render import colorbar, hstack_panels, overlay


def _map(h=60, w=90):
    m = np.zeros((h, w), np.float32)
    m[:, : w // 3] = 1.0  # toward the class
    m[:, -w // 3 :] = -1.0  # against it
    return m


def test_overlay_has_the_image_size_and_colours_the_sign():
    gray = np.full((60, 90), 128, np.uint8)
    rgb, vmax = overlay(gray, _map(), opacity=1.0)
    assert rgb.shape == (60, 90, 3) and rgb.dtype == np.uint8 and vmax == 1.0
    left, mid, right = rgb[30, 5].astype(int), rgb[30, 45], rgb[30, 85].astype(int)
    assert left[0] > left[2] + 50  # red
    assert right[2] > right[0] + 50  # blue
    assert tuple(mid) == (128, 128, 128)  # zero attribution leaves the plate visible


def test_opacity_zero_shows_only_the_image():
    gray = np.random.default_rng(0).integers(0, 256, (60, 90), dtype=np.uint8)
    rgb, _ = overlay(gray, _map(), opacity=0.0)
    assert (rgb == gray[..., None]).all()


def test_percentile_clipping_keeps_one_outlier_from_washing_out_the_map():
    m = _map() * 0.1
    m[0, 0] = 100.0
    _, vmax = overlay(np.zeros((60, 90), np.uint8), m, clip_percentile=99.0)
    assert vmax < 1.0


def test_render_with_colour_bar_and_title_and_write_png(tmp_path):
    gray = np.full((60, 90), 100, np.uint8)
    out = render_overlay(gray, _map(), title="scratches p=0.93")
    assert out.dtype == np.uint8 and out.shape[1] > 90 and out.shape[0] >= 60 + 22
    plain = render_overlay(gray, _map(), with_colorbar=False)
    assert plain.shape == (60, 90, 3)
    bar = colorbar(200, 0.5)
    assert bar[0, 5, 0] > bar[0, 5, 2] and bar[-1, 5, 2] > bar[-1, 5, 0]  # red top, blue bottom
    wide = hstack_panels([out, plain])
    assert wide.shape[1] == out.shape[1] + 8 + 90
    p = save_png(tmp_path / "ü" / "overlay.png", wide)
    back = cv2.imdecode(np.frombuffer(p.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert back.shape == wide.shape
    np.testing.assert_array_equal(back[..., ::-1], wide)


def test_a_map_of_another_size_is_resized_and_an_all_zero_map_renders():
    gray = np.zeros((60, 90), np.uint8)
    rgb, vmax = overlay(gray, np.zeros((30, 30), np.float32))
    assert rgb.shape == (60, 90, 3) and vmax == 1.0 and (rgb == 0).all()
