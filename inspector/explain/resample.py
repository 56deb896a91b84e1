"""Map post-processing that keeps attributions additive: smoothing and resizing to the image.

>>> m = np.ones((1, 100, 100), np.float32)
>>> float(resize_maps(m, (200, 300)).sum())     # the total attribution is unchanged
10000.0
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth_maps(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur each (H, W) map; the per-pixel Monte-Carlo noise averages out."""
    if sigma <= 0:
        return maps.astype(np.float32, copy=False)
    return np.stack(
        [cv2.GaussianBlur(m.astype(np.float32), (0, 0), sigmaX=sigma) for m in maps]
    )


def resize_maps(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(K, h, w) -> (K, H, W), scaled by the area ratio so every map keeps its sum."""
    h, w = maps.shape[1:]
    if (h, w) == tuple(shape):
        return maps.astype(np.float32, copy=False)
    scale = (h * w) / float(shape[0] * shape[1])
    return np.stack(
        [cv2.resize(m.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
         * scale for m in maps]
    )
