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

from inspector.domain import DatasetError, VocError
from inspector.voc import Box, box_mask, neu_xml_for_image, read_voc_annotation

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
