"""Pure numbers behind the review queues: label masks, per-image BCE loss, "doubt".

>>> bce([0.9, 0.2], [1, 0])              # mean over classes, natural log
0.164252033486018
>>> round(doubt([0.55, 0.1], [0.5, 0.5], band=0.5, none_over_band=1.0), 3)  # 0.2 log-odds off
0.401
>>> doubt([0.99, 0.01], [0.93, 0.5], band=0.5, none_over_band=1.0) > 1  # sure, far above 0.93
True
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


def logit(p: float) -> float:
    """Log-odds of a probability, clipped to ``EPS`` so 0 and 1 stay finite."""
    p = min(max(float(p), EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


def doubt(
    probabilities: Sequence[float],
    thresholds: Sequence[float],
    *,
    band: float,
    none_over_band: float,
) -> float:
    """How unsure the model is; <= 1 means the image belongs in the low-confidence queue.

    Distances are on the log-odds scale: 0.99 against a threshold of 0.93 is as sure as 0.83
    against 0.5, where a plain probability gap would call it "within 0.06" and flood the queue
    with every confident plate of a class whose threshold sits high (the shipped model's
    rolled-in scale at 0.93: 299 of 300 NEU plates). It is the smaller of (closest
    |logit p - logit t| over classes) / ``band`` and, when no class reaches its threshold,
    (log-odds gap of the closest class below its threshold) / ``none_over_band``. Storing this
    one number per prediction lets the queue be an index range scan ordered by doubt.
    """
    gaps = [logit(p) - logit(t) for p, t in zip(probabilities, thresholds, strict=True)]
    if not gaps:
        return FAR
    d = min(abs(g) for g in gaps) / band if band > 0 else FAR
    top = max(gaps)
    if top < 0 and none_over_band > 0:
        d = min(d, -top / none_over_band)
    return min(d, FAR)


def band_edges(threshold: float, band: float) -> tuple[float, float]:
    """The probabilities ``band`` log-odds below and above ``threshold`` (what a reason shows).

    >>> tuple(round(e, 2) for e in band_edges(0.5, 0.5))
    (0.38, 0.62)
    """
    t = logit(threshold)
    return 1.0 / (1.0 + math.exp(-(t - band))), 1.0 / (1.0 + math.exp(-(t + band)))
