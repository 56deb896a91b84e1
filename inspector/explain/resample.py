"""Map post-processing that keeps attributions additive: smoothing and resizing to the image.

>>> m = np.ones((1, 100, 100), np.float32)
>>> round(float(resize_maps(m, (200, 300)).sum()), 1)     # the total attribution is unchanged
10000.0
"""

from __future__ import annotations

import cv2
import numpy as np


def smooth_maps(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blur each (H, W) map; the per-pixel Monte-Carlo noise averages out."""
    if sigma <= 0:
        return maps.astype(np.float32, copy=False)
    return np.stack([cv2.GaussianBlur(m.astype(np.float32), (0, 0), sigmaX=sigma) for m in maps])


def _column_weights(n_out: int, n_in: int) -> np.ndarray:
    """Per-input-pixel factors that make a bilinear resize preserve sums exactly.

    Bilinear resizing gives border pixels less total weight than inner ones, so a map's total
    drifts by a few per cent. cv2.resize is linear (out = R m Rᵀ), so pre-scaling input row/column
    j by (n_out/n_in) / Σ_i R[i, j] equalises the weights without building R m Rᵀ ourselves.
    """
    r = cv2.resize(np.eye(n_in, dtype=np.float32), (n_in, n_out), interpolation=cv2.INTER_LINEAR)
    return (n_out / n_in) / r.sum(axis=0)


def resize_maps(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(K, h, w) -> (K, H, W) bilinear, scaled so every map keeps its sum (attribution density)."""
    h, w = maps.shape[1:]
    H, W = shape
    if (h, w) == (H, W):
        return maps.astype(np.float32, copy=False)
    weight = np.outer(_column_weights(H, h), _column_weights(W, w)).astype(np.float32)
    weight *= (h * w) / float(H * W)
    return np.stack(
        [
            cv2.resize(m.astype(np.float32) * weight, (W, H), interpolation=cv2.INTER_LINEAR)
            for m in maps
        ]
    )
