"""The fast 8-bit BMP decoder gives exactly what the Pillow path gives, or steps aside."""

from __future__ import annotations

import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image

from inspector.domain import ImageLoadError
from inspector.imageio import decode_bmp8, decode_image

BUDGET = 1 << 29


def _pillow_gray(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        if im.mode == "L":
            return np.asarray(im).copy()
        return cv2.cvtColor(np.asarray(im.convert("RGB")), cv2.COLOR_RGB2GRAY)


def _bmp(gray: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".bmp", gray)
    assert ok
    return buf.tobytes()


@pytest.mark.parametrize("shape", [(200, 200), (37, 203), (1, 1)])
def test_grey_bmp_matches_pillow(shape):
    gray = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    data = _bmp(gray)
    fast = decode_bmp8(data, BUDGET)
    assert fast is not None and fast.dtype == np.uint8 and fast.flags.c_contiguous
    np.testing.assert_array_equal(fast, gray)
    np.testing.assert_array_equal(fast, _pillow_gray(data))


def test_colour_palette_bmp_matches_pillow_rgb_to_gray():
    rng = np.random.default_rng(2)
    im = Image.fromarray(rng.integers(0, 256, (31, 45), dtype=np.uint8), mode="P")
    im.putpalette(rng.integers(0, 256, 768, dtype=np.uint8).tobytes())
    buf = io.BytesIO()
    im.save(buf, format="BMP")
    data = buf.getvalue()
    fast = decode_bmp8(data, BUDGET)
    assert fast is not None
    np.testing.assert_array_equal(fast, _pillow_gray(data))


def test_top_down_bmp():
    gray = np.random.default_rng(3).integers(0, 256, (20, 24), dtype=np.uint8)
    data = bytearray(_bmp(gray[::-1]))  # bottom-up rows of the flipped image...
    struct.pack_into("<i", data, 22, -20)  # ...read top-down are the image itself
    np.testing.assert_array_equal(decode_bmp8(bytes(data), BUDGET), gray)
    np.testing.assert_array_equal(decode_image(bytes(data)), _pillow_gray(bytes(data)))


def test_truncated_bmp_takes_the_pillow_path_and_its_error():
    data = _bmp(np.zeros((50, 50), np.uint8))[:-100]
    assert decode_bmp8(data, BUDGET) is None
    with pytest.raises(ImageLoadError, match=r"truncated|corrupt|not enough"):
        decode_image(data, "cut.bmp")


def test_other_bmps_step_aside():
    colour = _bmp(np.zeros((8, 8, 3), np.uint8))  # 24-bit
    assert decode_bmp8(colour, BUDGET) is None
    assert decode_image(colour).shape == (8, 8)
    assert decode_bmp8(_bmp(np.zeros((100, 100), np.uint8)), 100) is None  # over the budget
    assert decode_bmp8(b"BM" + b"\0" * 10, BUDGET) is None
