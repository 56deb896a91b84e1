"""Defect boxes from Pascal VOC XML (the NEU-DET annotations), read with :mod:`inspector.voc`.

Usage::

    xml = det_xml_for(Path("neu-cls/scratches/Sc_12.bmp"), Path("neu-det-annotations"))
    size, boxes = read_voc(xml)                      # ((200, 200), [Box('scratches', ...), ...])
    mask = box_mask((200, 200), [b for b in boxes if b.name == "scratches"], size)

>>> box_mask((4, 4), [Box("scratches", 1, 1, 2, 2)], (4, 4)).astype(int).tolist()  # 1-based, inclusive
[[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
"""

from __future__ import annotations

from inspector.voc import Box, box_mask, det_xml_for
from inspector.voc import read_sized_boxes as read_voc

__all__ = ["Box", "box_mask", "det_xml_for", "read_voc"]
