"""Defect boxes from Pascal VOC XML (the NEU-DET annotations), read with :mod:`inspector.voc`.

Usage::

    xml = det_xml_for(Path("neu-cls/scratches/Sc_12.bmp"), Path("neu-det-annotations"))
    size, boxes = read_voc(xml)                      # ((200, 200), [Box('scratches', ...), ...])
    mask = box_mask((200, 200), [b for b in boxes if b.name == "scratches"], size)

>>> box_mask((4, 4), [Box("scratches", 1, 1, 2, 2)], (4, 4)).astype(int).tolist()  # 1-based, inclusive
[[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.domain import DatasetError, VocError
from inspector.voc import Box, neu_xml_for_image, read_voc_annotation

__all__ = ["Box", "box_mask", "det_xml_for", "read_voc"]


def read_voc(path: str | Path) -> tuple[tuple[int, int], list[Box]]:
    """((width, height) the boxes refer to, boxes) of one VOC annotation file."""
    try:
        ann = read_voc_annotation(path)
        return ann.size, ann.boxes()
    except VocError as exc:
        raise DatasetError(f"{path}: not a readable Pascal VOC annotation ({exc.detail})") from None


def det_xml_for(image_path: Path, boxes_dir: Path) -> Path | None:
    """NEU-CLS ``<class>/<Prefix>_<n>.bmp`` -> NEU-DET ``<class>_<n>.xml`` (None if absent)."""
    xml = neu_xml_for_image(image_path, boxes_dir)
    return xml if xml.is_file() else None


def box_mask(shape: tuple[int, int], boxes: list[Box], ref_size: tuple[int, int]) -> np.ndarray:
    """Union of ``boxes`` as a bool (H, W) mask; box pixels are scaled from ``ref_size`` (w, h).

    VOC pixel coordinates are 1-based and inclusive.
    """
    h, w = shape
    sx = w / ref_size[0] if ref_size[0] else 1.0
    sy = h / ref_size[1] if ref_size[1] else 1.0
    mask = np.zeros((h, w), bool)
    for b in boxes:
        x0, x1 = int(np.floor((b.xmin - 1) * sx)), int(np.ceil(b.xmax * sx))
        y0, y1 = int(np.floor((b.ymin - 1) * sy)), int(np.ceil(b.ymax * sy))
        mask[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)] = True
    return mask
