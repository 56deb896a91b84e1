"""Display jobs of the window: decode an image for the big view, draw a heatmap as a QImage.

Plain functions run by :mod:`inspector.gui.workers` (QImages may be made off the GUI thread;
QPixmaps are made by the receiver). The Qt-free jobs (scoring, listing, explanations) live with
the controllers in :mod:`inspector.controllers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QImage

from inspector.domain import VocError
from inspector.gui.widgets.gallery import gray_to_qimage
from inspector.gui.widgets.image_view import VocBox
from inspector.jobs import CancelFn, check, never
from inspector.voc import annotation_beside, read_voc_annotation


def find_voc_boxes(path: str) -> list[VocBox]:
    """Pascal VOC boxes for an image: ``stem.xml`` beside it or in a sibling annotations folder."""
    xml = annotation_beside(path)
    if xml is None:
        return []
    try:
        ann = read_voc_annotation(xml)
    except VocError:
        return []
    boxes = []
    for obj in ann.objects:
        vals = obj.box.pixels() if obj.box else None
        if vals is None:  # no <bndbox>, or a non-numeric, NaN or inf one: nothing to draw
            continue
        boxes.append(VocBox(obj.label or "?", *vals))
    return boxes


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


def colorize(heat, positive_only: bool = False) -> QImage:
    """A 2-D attribution map -> RGBA QImage in the one overlay colour map (:mod:`inspector.colormap`)."""
    from inspector.colormap import to_rgba

    rgba = to_rgba(heat, positive_only=positive_only)
    hh, ww = rgba.shape[:2]
    return QImage(rgba.data, ww, hh, ww * 4, QImage.Format.Format_RGBA8888).copy()


#: The strongest region's outline: the positive evidence above this share of its maximum,
#: after a 9 px box blur (the pointing game's smoothing), so one hot pixel is not a region.
CONTOUR_LEVEL = 0.5


@dataclass(frozen=True, slots=True)
class RenderedHeatmap:
    overlay: QImage
    contours: list[list[tuple[float, float]]]  # polygons in image pixels: the strongest region


def render_heatmap(
    values, positive_only: bool = False, cancel: CancelFn = never
) -> RenderedHeatmap:
    """Colour a signed map and outline its strongest region (runs in a worker: numpy + OpenCV)."""
    import cv2
    import numpy as np

    overlay = colorize(values, positive_only=positive_only)
    check(cancel)
    pos = np.clip(np.nan_to_num(np.asarray(values, np.float32)), 0, None)
    smooth = cv2.blur(pos, (9, 9))
    top = float(smooth.max())
    contours: list[list[tuple[float, float]]] = []
    if top > 0:
        mask = (smooth >= CONTOUR_LEVEL * top).astype(np.uint8)
        found, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        y, x = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
        # the one region around the map's maximum (the pointing game's point), not every blob
        strongest = [c for c in found if cv2.pointPolygonTest(c, (float(x), float(y)), False) >= 0]
        contours = [[(float(px), float(py)) for px, py in c.reshape(-1, 2)] for c in strongest[:1]]
    return RenderedHeatmap(overlay, contours)
