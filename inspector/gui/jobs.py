"""Display jobs of the window: decode an image for the big view, draw a heatmap as a QImage.

Plain functions run by :mod:`inspector.gui.workers` (QImages may be made off the GUI thread;
QPixmaps are made by the receiver). The Qt-free jobs (scoring, listing, explanations) live with
the controllers in :mod:`inspector.controllers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from inspector.domain import VocError
from inspector.gui.widgets.gallery import gray_to_qimage
from inspector.gui.widgets.image_view import COLORMAP_STOPS, VocBox
from inspector.jobs import CancelFn, check, never
from inspector.voc import read_voc_annotation


def find_voc_boxes(path: str) -> list[VocBox]:
    """Pascal VOC boxes for an image: ``stem.xml`` beside it or in a sibling annotations folder."""
    p = Path(path)
    candidates = [p.with_suffix(".xml")]
    for name in ("annotations", "Annotations", "ANNOTATIONS"):
        candidates += [p.parent / name / f"{p.stem}.xml", p.parent.parent / name / f"{p.stem}.xml"]
    for c in candidates:
        if c.is_file():
            try:
                ann = read_voc_annotation(c)
            except VocError:
                return []
            boxes = []
            for obj in ann.objects:
                b = obj.box
                if b is None:  # no <bndbox> or a non-numeric one: nothing to draw
                    continue
                try:
                    vals = [int(v) for v in (b.xmin, b.ymin, b.xmax, b.ymax)]
                except (ValueError, OverflowError):  # NaN or inf
                    continue
                boxes.append(VocBox(obj.label or "?", *vals))
            return boxes
    return []


@dataclass(frozen=True, slots=True)
class LoadedImage:
    path: str
    image: QImage
    width: int
    height: int
    boxes: list[VocBox]


def load_full_image(path: str, cancel: CancelFn = never) -> LoadedImage:
    from inspector.imageio import load_image

    gray = load_image(path)
    check(cancel)
    h, w = gray.shape
    return LoadedImage(path, gray_to_qimage(gray), w, h, find_voc_boxes(path))


def colorize(heat) -> QImage:
    """A 2-D attribution map -> RGBA QImage in the overlay colour map (alpha grows with |value|)."""
    import numpy as np

    h = np.nan_to_num(np.asarray(heat, np.float32))
    top = float(np.abs(h).max()) or 1.0
    v = np.clip(h / top, 0, 1)  # positive evidence for the class
    xs = np.array([s for s, _ in COLORMAP_STOPS], np.float32)
    cols = np.array([c for _, c in COLORMAP_STOPS], np.float32)
    rgba = np.empty((*v.shape, 4), np.uint8)
    for ch in range(3):
        rgba[..., ch] = np.interp(v, xs, cols[:, ch]).astype(np.uint8)
    rgba[..., 3] = (np.sqrt(v) * 255).astype(np.uint8)
    rgba = np.ascontiguousarray(rgba)
    hh, ww = v.shape
    return QImage(rgba.data, ww, hh, ww * 4, QImage.Format.Format_RGBA8888).copy()
