"""The figures issue 12 sets as goals for a heatmap, per image: pointing game and in-box share.

* **Pointing game**: the map's maximum, after a 9 px box blur, lies inside a box of the labelled
  class grown by 15 px (the usual tolerance).
* **In-box share**: the share of the positive attribution inside the class's boxes (a map that
  ignores the defect scores the boxes' own area share, about 0.27–0.32 on NEU-DET).

Both take the map at the image's resolution and the boxes in VOC coordinates of ``ref_size``.

>>> from inspector.voc import Box
>>> m = np.zeros((100, 100)); m[10:20, 10:20] = 1.0; m[80, 80] = 5.0   # a blob and a hot pixel
>>> b = [Box("inclusion", 11, 11, 20, 20)]
>>> pointing_hit(m, b, (100, 100)), round(in_box_share(m, b, (100, 100)), 2)
(True, 0.95)
"""

from __future__ import annotations

import cv2
import numpy as np

from inspector.explain.boxes import box_mask
from inspector.voc import Box

POINTING_BLUR = 9
POINTING_TOLERANCE = 15


def grown(boxes: list[Box], by: float) -> list[Box]:
    return [Box(b.label, b.xmin - by, b.ymin - by, b.xmax + by, b.ymax + by) for b in boxes]


def pointing_hit(
    amap: np.ndarray,
    boxes: list[Box],
    ref_size: tuple[int, int],
    blur: int = POINTING_BLUR,
    tolerance: float = POINTING_TOLERANCE,
) -> bool:
    """True when the blurred map's maximum lies in a box grown by ``tolerance`` pixels."""
    smooth = cv2.blur(np.asarray(amap, np.float32), (blur, blur))
    y, x = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    return bool(box_mask(amap.shape, grown(boxes, tolerance), ref_size)[y, x])


def in_box_share(amap: np.ndarray, boxes: list[Box], ref_size: tuple[int, int]) -> float:
    """Share of the positive attribution inside ``boxes`` (0 when nothing is positive)."""
    pos = np.clip(np.asarray(amap, np.float64), 0.0, None)
    total = pos.sum()
    mask = box_mask(amap.shape, boxes, ref_size)
    return float(pos[mask].sum() / total) if total > 0 else 0.0
