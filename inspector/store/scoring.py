"""Pure numbers behind the review queues: label masks, per-image BCE loss, "doubt".

>>> bce([0.9, 0.2], [1, 0])              # mean over classes, natural log
0.164252033486018
>>> round(doubt([0.55, 0.1], [0.5, 0.5], band=0.1, none_over_band=0.2), 6)  # 0.05 off
0.5
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Probabilities are clipped so a confident mistake costs a large but finite loss.
EPS = 1e-7
#: Stored as doubt when nothing is near a threshold; keeps the column NOT NULL and sortable.
FAR = 1e9
#: Class ids become bits of a 64-bit signed integer mask.
MAX_CLASS_ID = 62


def mask_of(class_ids: Sequence[int] | None) -> int:
    m = 0
    for cid in class_ids or ():
        m |= 1 << cid
    return m


def bce(probabilities: Sequence[float], targets: Sequence[int]) -> float:
    """Mean binary cross-entropy of sigmoid outputs against a 0/1 multi-label vector."""
    total = 0.0
    for p, y in zip(probabilities, targets, strict=True):
        p = min(max(float(p), EPS), 1.0 - EPS)
        total -= math.log(p) if y else math.log(1.0 - p)
    return total / max(len(probabilities), 1)


def doubt(
    probabilities: Sequence[float],
    thresholds: Sequence[float],
    *,
    band: float,
    none_over_band: float,
) -> float:
    """How unsure the model is; <= 1 means the image belongs in the low-confidence queue.

    It is the smaller of (closest |p - t| over classes) / ``band`` and, when no class reaches its
    threshold, (distance of the closest class below its threshold) / ``none_over_band``. Storing
    this one number per prediction lets the queue be an index range scan ordered by doubt.
    """
    gaps = [float(p) - float(t) for p, t in zip(probabilities, thresholds, strict=True)]
    if not gaps:
        return FAR
    d = min(abs(g) for g in gaps) / band if band > 0 else FAR
    top = max(gaps)
    if top < 0 and none_over_band > 0:
        d = min(d, -top / none_over_band)
    return min(d, FAR)
