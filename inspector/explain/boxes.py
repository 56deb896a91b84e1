"""Defect boxes from Pascal VOC XML (the NEU-DET annotations), read with xml.etree.

>>> xml = det_xml_for(Path("neu-cls/scratches/Sc_12.bmp"), Path("neu-det-annotations"))  # doctest: +SKIP
>>> size, boxes = read_voc(xml)                      # ((200, 200), [Box('scratches', ...), ...])
>>> mask = box_mask((200, 200), [b for b in boxes if b.name == "scratches"], size)     # doctest: +SKIP
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.domain import DatasetError


@dataclass(frozen=True, slots=True)
class Box:
    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float


def read_voc(path: str | Path) -> tuple[tuple[int, int], list[Box]]:
    """((width, height) the boxes refer to, boxes) of one VOC annotation file."""
    try:
        root = ET.parse(path).getroot()
        size = root.find("size")
        wh = (int(size.findtext("width")), int(size.findtext("height"))) if size is not None else (0, 0)
        boxes = []
        for obj in root.iter("object"):
            bb = obj.find("bndbox")
            if bb is None:
                continue
            boxes.append(Box(
                str(obj.findtext("name", "")).strip(),
                *(float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")),
            ))
    except (ET.ParseError, OSError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable Pascal VOC annotation ({exc})") from None
    return wh, boxes


def det_xml_for(image_path: Path, boxes_dir: Path) -> Path | None:
    """NEU-CLS ``<class>/<Prefix>_<n>.bmp`` -> NEU-DET ``<class>_<n>.xml`` (None if absent)."""
    n = image_path.stem.rsplit("_", 1)[-1]
    xml = boxes_dir / f"{image_path.parent.name}_{n}.xml"
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
