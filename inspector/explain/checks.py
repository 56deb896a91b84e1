"""Checks that make a heatmap trustworthy: edge attention, box agreement, deletion test.

>>> m = np.zeros((100, 100)); m[:, :5] = 1.0          # all attribution on the left edge
>>> edge_attention(m), edge_flag(m)
(1.0, True)

*Edge attention* is the share of positive attribution in the outer 10 % band of the image. That
band is 36 % of the area, so a model spreading attention evenly scores 0.36; at
``EDGE_FLAG_THRESHOLD`` (0.5) the band holds ~1.8× its fair share per pixel and the GUI shows
"model looks at the edges" — the failure the course material reported.

Where the class's defect boxes are known (``inside``), attribution inside them is attention on
the defect even when the defect touches the border, so it does not count as edge attention:

>>> box = np.zeros((100, 100), bool); box[:, :8] = True   # a scratch along the left edge
>>> edge_attention(m, inside=box), edge_flag(m, inside=box)
(0.0, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

EDGE_BAND = 0.10
EDGE_FLAG_THRESHOLD = 0.5
DELETION_FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)


def _positive(amap: np.ndarray) -> np.ndarray:
    return np.clip(amap, 0.0, None)


def edge_band_mask(shape: tuple[int, int], band: float = EDGE_BAND) -> np.ndarray:
    h, w = shape
    bh, bw = max(1, round(h * band)), max(1, round(w * band))
    mask = np.ones((h, w), bool)
    mask[bh : h - bh, bw : w - bw] = False
    return mask


def edge_attention(
    amap: np.ndarray, band: float = EDGE_BAND, inside: np.ndarray | None = None
) -> float:
    """Share of positive attribution in the outer ``band`` of the image and outside the
    ``inside`` mask (the class's defect boxes, when known); 0 when none is positive."""
    pos = _positive(amap)
    total = float(pos.sum())
    band_mask = edge_band_mask(amap.shape, band)
    if inside is not None:
        band_mask &= ~inside
    return float(pos[band_mask].sum()) / total if total > 0 else 0.0


def edge_flag(
    amap: np.ndarray, threshold: float = EDGE_FLAG_THRESHOLD, inside: np.ndarray | None = None
) -> bool:
    """True when the map's edge attention reaches ``threshold`` ("model looks at the edges")."""
    return edge_attention(amap, inside=inside) >= threshold


@dataclass(frozen=True, slots=True)
class BoxAgreement:
    mass_in_box: float  # share of positive attribution inside the boxes
    area_share: float  # share of the image the boxes cover

    @property
    def ratio(self) -> float:
        """mass/area: 1 = no better than uniform; the goal is ≥ 3 (median over a split)."""
        return self.mass_in_box / self.area_share if self.area_share > 0 else float("nan")


def box_agreement(amap: np.ndarray, mask: np.ndarray) -> BoxAgreement:
    pos = _positive(amap)
    total = float(pos.sum())
    mass = float(pos[mask].sum()) / total if total > 0 else 0.0
    return BoxAgreement(mass, float(mask.mean()))


@dataclass(frozen=True, slots=True)
class Deletion:
    """Class probability as the top-attributed vs randomly chosen pixels are removed."""

    fractions: tuple[float, ...]
    by_attribution: np.ndarray
    at_random: np.ndarray

    @property
    def auc_attribution(self) -> float:
        return _auc(self.fractions, self.by_attribution)

    @property
    def auc_random(self) -> float:
        return _auc(self.fractions, self.at_random)

    @property
    def beats_random(self) -> bool:
        """Removing what the map points at lowers the probability faster than removing noise."""
        return self.auc_attribution < self.auc_random


def _auc(fr: tuple[float, ...], p: np.ndarray) -> float:
    f = np.asarray(fr)
    return float(np.sum((p[1:] + p[:-1]) * np.diff(f)) / 2.0 / (f[-1] - f[0]))


def deletion_test(
    probability: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    model_map: np.ndarray,
    fractions: tuple[float, ...] = DELETION_FRACTIONS,
    seed: int = 0,
) -> Deletion:
    """Delete (set to the image's mean) growing shares of pixels, in attribution or random order.

    ``x`` is the preprocessed input (C, s, s), ``model_map`` the class's map at that size,
    ``probability`` maps a batch (N, C, s, s) to the class's probabilities (N,). One batch, one call.
    """
    n = model_map.size
    orders = [
        np.argsort(-model_map.ravel(), kind="stable"),
        np.random.default_rng(seed).permutation(n),
    ]
    fill = x.mean(axis=(1, 2), keepdims=True)
    batch = []
    for order in orders:
        for f in fractions:
            xi = x.reshape(x.shape[0], -1).copy()
            xi[:, order[: round(f * n)]] = fill.reshape(-1, 1)
            batch.append(xi.reshape(x.shape))
    p = np.asarray(probability(np.stack(batch)), np.float64).reshape(2, len(fractions))
    return Deletion(tuple(fractions), p[0], p[1])
