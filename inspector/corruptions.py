"""Image corruptions a line camera really produces, for the robustness benchmark (issue 13).

Each takes a 2-D uint8 plate (as :func:`inspector.imageio.load_image` returns it, before
preprocessing) and returns a new 2-D uint8 array of the same shape; none changes its input.
``strength`` scales the corruption: 1 is the benchmark's setting, 0 returns the plate unchanged.
Random ones take a ``seed`` and give the same output for the same seed.

>>> plate = np.full((200, 200), 128, np.uint8)
>>> out = corrupt("illumination", plate, seed=3)
>>> out.shape, out.dtype, int(out.min()) < 128 < int(out.max())
((200, 200), dtype('uint8'), True)

The benchmark's settings (:data:`CORRUPTIONS`, strength 1):

==============  ===============================================================================
gaussian_noise  add N(0, 0.05) on the [0, 1] intensity scale (sigma 12.75 grey levels), clip
gaussian_blur   Gaussian blur, sigma 1.5 px (kernel 2*ceil(3 sigma)+1, borders reflected)
brighter        every intensity x 1.25 (an exposure 25 % up), clipped at 255
darker          every intensity x 0.75 (an exposure 25 % down)
illumination    uneven lighting: a gain that rises linearly from 0.6 to 1.4 across the plate
                along a direction drawn from the seed (uniform 0-360 degrees); the gain is 0.6
                at the plate's darkest corner/edge and 1.4 at the opposite one, 1.0 at the centre
jpeg            encode and decode as a greyscale JPEG at quality 50 (OpenCV's libjpeg)
==============  ===============================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

__all__ = [
    "CORRUPTIONS",
    "brightness",
    "corrupt",
    "gaussian_blur",
    "gaussian_noise",
    "illumination_gradient",
    "jpeg",
]


def _check(img: np.ndarray) -> np.ndarray:
    if img.ndim != 2 or img.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 plate, got {img.dtype} with shape {img.shape}")
    return img


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def gaussian_noise(img: np.ndarray, sigma: float = 0.05, seed: int = 0) -> np.ndarray:
    """Additive Gaussian noise, ``sigma`` on the [0, 1] scale; the same seed, the same noise."""
    _check(img)
    if sigma == 0:
        return img.copy()
    noise = np.random.default_rng(seed).normal(0.0, sigma * 255.0, img.shape)
    return _to_uint8(img.astype(np.float64) + noise)


def gaussian_blur(img: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Out-of-focus optics: a Gaussian blur of ``sigma`` pixels (6 sigma wide kernel)."""
    _check(img)
    if sigma == 0:
        return img.copy()
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return cv2.GaussianBlur(
        img, (k, k), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT_101
    )


def brightness(img: np.ndarray, factor: float = 1.25) -> np.ndarray:
    """Exposure change: every intensity times ``factor`` (1.25 = +25 %, 0.75 = -25 %)."""
    _check(img)
    return _to_uint8(img.astype(np.float64) * factor)


def illumination_gradient(
    img: np.ndarray, low: float = 0.6, high: float = 1.4, seed: int = 0
) -> np.ndarray:
    """Uneven lighting: a gain rising linearly from ``low`` to ``high`` across the plate.

    The direction is drawn from ``seed`` (uniform over 0-360 degrees); the ramp spans the plate's
    full extent along it, so the gain is exactly ``low`` at one extreme corner or edge and
    ``high`` at the opposite one.
    """
    _check(img)
    if low == high == 1.0:
        return img.copy()
    angle = np.random.default_rng(seed).uniform(0.0, 2 * np.pi)
    h, w = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    t = xx * np.cos(angle) + yy * np.sin(angle)
    span = t.max() - t.min()
    t = (t - t.min()) / span if span > 0 else np.full_like(t, 0.5)
    return _to_uint8(img.astype(np.float64) * (low + (high - low) * t))


def jpeg(img: np.ndarray, quality: int = 50) -> np.ndarray:
    """Compression artefacts: encode and decode as a JPEG of ``quality`` (1-100)."""
    _check(img)
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be 1 to 100, not {quality}")
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 grey image
        raise ValueError("OpenCV could not encode the image as JPEG")
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def _scaled(name: str, strength: float) -> Callable[[np.ndarray, int], np.ndarray]:
    s = float(strength)
    table: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
        "gaussian_noise": lambda im, seed: gaussian_noise(im, 0.05 * s, seed),
        "gaussian_blur": lambda im, seed: gaussian_blur(im, 1.5 * s),
        "brighter": lambda im, seed: brightness(im, 1 + 0.25 * s),
        "darker": lambda im, seed: brightness(im, 1 - 0.25 * s),
        "illumination": lambda im, seed: illumination_gradient(im, 1 - 0.4 * s, 1 + 0.4 * s, seed),
        # quality 100 is not lossless: strength 0 skips the codec; 1 is quality 50
        "jpeg": lambda im, seed: im.copy() if s == 0 else jpeg(im, round(100 - 50 * s)),
    }
    if name not in table:
        raise ValueError(f"unknown corruption {name!r}; one of {', '.join(CORRUPTIONS)}")
    return table[name]


#: The benchmark's corruptions, in table order.
CORRUPTIONS: tuple[str, ...] = (
    "gaussian_noise",
    "gaussian_blur",
    "brighter",
    "darker",
    "illumination",
    "jpeg",
)


def corrupt(name: str, img: np.ndarray, seed: int = 0, strength: float = 1.0) -> np.ndarray:
    """Apply the corruption ``name`` (one of :data:`CORRUPTIONS`) at ``strength`` (0-2)."""
    if not 0 <= strength <= 2:
        raise ValueError(f"strength must be between 0 and 2, not {strength}")
    return _scaled(name, strength)(_check(img), seed)
