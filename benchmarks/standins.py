"""Images that are not NEU plates, for measuring the unfamiliar-plate score.

Two kinds of stand-in for "a plate from another line" (which we do not have):

* procedural textures a camera over a production line might plausibly see instead of a plate
  (fractal noise, wood grain, stripes, checkerboards, natural-ish scenes of shapes and edges);
* NEU test plates under heavy synthetic change (blur, inversion, noise, tiling, zoom, contrast).

Every generator returns 200×200 uint8 grey images (the NEU size), seeded and deterministic.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

SIZE = 200


def _norm(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    a = (a - a.min()) / max(a.max() - a.min(), 1e-9)
    return (a * 255).astype(np.uint8)


def fractal_noise(rng: np.random.Generator) -> np.ndarray:
    """Sum of octaves of smoothly upsampled noise (Perlin-like)."""
    out = np.zeros((SIZE, SIZE))
    for octave in range(rng.integers(3, 7)):
        n = 2 ** (octave + 2)
        g = rng.normal(0, 1, (n, n))
        out += cv2.resize(g, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC) / 1.8**octave
    return _norm(out)


def wood(rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    cx, cy = rng.uniform(-200, 400, 2)
    r = np.hypot(xx - cx, (yy - cy) * rng.uniform(0.05, 0.4))
    warp = cv2.resize(rng.normal(0, 1, (8, 8)), (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    return _norm(np.sin(r / rng.uniform(2, 8) + 3 * warp))


def stripes(rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    a = rng.uniform(0, np.pi)
    f = rng.uniform(0.05, 0.6)
    s = np.sin(f * (xx * np.cos(a) + yy * np.sin(a)))
    return _norm(np.sign(s) if rng.random() < 0.5 else s)


def checkerboard(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(6, 40))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    board = ((xx // n + yy // n) % 2).astype(np.float64)
    m = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), float(rng.uniform(0, 90)), 1.5)
    return _norm(cv2.warpAffine(board, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT))


def scene(rng: np.random.Generator) -> np.ndarray:
    """Natural-ish: a lit gradient with filled shapes, edges and a little texture."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    img = 80 + 60 * (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)) / SIZE
    for _ in range(rng.integers(4, 12)):
        colour = float(rng.uniform(0, 255))
        c = tuple(int(v) for v in rng.integers(0, SIZE, 2))
        if rng.random() < 0.5:
            axes = tuple(int(v) for v in rng.integers(5, 70, 2))
            cv2.ellipse(img, c, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
        else:
            pts = rng.integers(0, SIZE, (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(img, [pts], colour)
    img += rng.normal(0, 6, img.shape)
    return np.clip(cv2.GaussianBlur(img, (0, 0), 1.2), 0, 255).astype(np.uint8)


def flat(rng: np.random.Generator) -> np.ndarray:
    """Nearly empty frames: a constant or a gentle gradient with sensor noise."""
    xx = np.mgrid[0:SIZE, 0:SIZE][1].astype(np.float64)
    img = rng.uniform(20, 235) + rng.uniform(-40, 40) * (xx / SIZE) + rng.normal(0, 3, xx.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


PROCEDURAL: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "fractal noise": fractal_noise,
    "wood grain": wood,
    "stripes": stripes,
    "checkerboard": checkerboard,
    "shapes scene": scene,
    "flat frame": flat,
}


def _blur(img: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), 6)


def _invert(img: np.ndarray) -> np.ndarray:
    return 255 - img


def _noise(img: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(int(img.sum()) % 2**32)
    return np.clip(img + rng.normal(0, 60, img.shape), 0, 255).astype(np.uint8)


def _tile3(img: np.ndarray) -> np.ndarray:
    small = cv2.resize(img, (SIZE // 3 + 1, SIZE // 3 + 1), interpolation=cv2.INTER_AREA)
    return np.tile(small, (3, 3))[:SIZE, :SIZE]


def _zoom3(img: np.ndarray) -> np.ndarray:
    h, w = img.shape
    crop = img[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    return cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC)


def _contrast(img: np.ndarray) -> np.ndarray:
    m = float(img.mean())
    return np.clip((img.astype(np.float64) - m) * 5 + m, 0, 255).astype(np.uint8)


CHANGES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "NEU + strong blur": _blur,
    "NEU inverted": _invert,
    "NEU + heavy noise": _noise,
    "NEU tiled 3x3": _tile3,
    "NEU zoom x3": _zoom3,
    "NEU extreme contrast": _contrast,
}


def procedural(name: str, n: int, seed: int = 0) -> np.ndarray:
    """``n`` images of one procedural family, (n, 200, 200) uint8."""
    rng = np.random.default_rng(seed)
    return np.stack([PROCEDURAL[name](rng) for _ in range(n)])


def changed(name: str, plates: np.ndarray) -> np.ndarray:
    """NEU plates (n, H, W) uint8 under one heavy change."""
    return np.stack([CHANGES[name](p) for p in plates])
