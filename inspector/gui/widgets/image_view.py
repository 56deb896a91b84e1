"""Plate image view: wheel zoom, drag to pan, fit / 1:1, a SHAP heatmap overlay and VOC boxes.

Everything here only *shows* pixmaps: decoding, heatmap rendering and colour mapping happen in
workers, which hand over QImages; the pixmaps are made here, on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QSizePolicy,
    QWidget,
)

from inspector.colormap import COLORMAP_STOPS
from inspector.gui.qtcompat import emit


@dataclass(frozen=True, slots=True)
class VocBox:
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int


class ImageView(QGraphicsView):
    """A zoomable, pannable image with an optional heatmap overlay and boxes."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageView")
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self._image = QGraphicsPixmapItem()
        self._image.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._overlay = QGraphicsPixmapItem()
        self._overlay.setZValue(1)
        self._overlay.setOpacity(0.5)
        self._overlay.setVisible(False)
        self._scene.addItem(self._image)
        self._scene.addItem(self._overlay)
        self._boxes: list[QGraphicsRectItem | QGraphicsSimpleTextItem] = []
        self._contour = QGraphicsPathItem()
        pen = QPen(QColor(255, 235, 59), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._contour.setPen(pen)
        self._contour.setZValue(3)
        self._contour.setToolTip("the strongest evidence for the class")
        self._scene.addItem(self._contour)
        self._fit = True
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QBrush(QColor(32, 34, 37)))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

    # -- content -----------------------------------------------------------------------------
    def set_image(self, image: QImage | None) -> None:
        self.clear_overlay()
        self.set_boxes([])
        if image is None or image.isNull():
            self._image.setPixmap(QPixmap())
            return
        self._image.setPixmap(QPixmap.fromImage(image))
        self._scene.setSceneRect(QRectF(image.rect()))
        if self._fit:
            self.fit()

    def has_image(self) -> bool:
        return not self._image.pixmap().isNull()

    def set_overlay(self, rgba: QImage | None) -> None:
        if rgba is None or rgba.isNull():
            self.clear_overlay()
            return
        pm = QPixmap.fromImage(rgba)
        size = self._image.pixmap().size()
        if not size.isEmpty() and pm.size() != size:
            pm = pm.scaled(
                size,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self._overlay.setPixmap(pm)
        self._overlay.setVisible(True)

    def clear_overlay(self) -> None:
        self._overlay.setPixmap(QPixmap())
        self._overlay.setVisible(False)
        self._contour.setPath(QPainterPath())

    def set_contours(self, polygons: list[list[tuple[float, float]]]) -> None:
        """Outline regions (image pixel coordinates) over the overlay."""
        path = QPainterPath()
        for poly in polygons:
            if len(poly) >= 3:
                path.addPolygon(QPolygonF([QPointF(x + 0.5, y + 0.5) for x, y in poly]))
                path.closeSubpath()
        self._contour.setPath(path)

    def contour_count(self) -> int:
        return self._contour.path().elementCount()

    def overlay_visible(self) -> bool:
        return self._overlay.isVisible()

    def set_overlay_opacity(self, value: float) -> None:
        self._overlay.setOpacity(max(0.0, min(1.0, value)))

    def set_boxes(self, boxes: list[VocBox]) -> None:
        for item in self._boxes:
            self._scene.removeItem(item)
        self._boxes.clear()
        pen = QPen(QColor(0, 230, 118), 2)
        pen.setCosmetic(True)
        for b in boxes:
            r = QGraphicsRectItem(b.xmin, b.ymin, b.xmax - b.xmin, b.ymax - b.ymin)
            r.setPen(pen)
            r.setZValue(2)
            t = QGraphicsSimpleTextItem(b.label)
            t.setBrush(QColor(0, 230, 118))
            t.setPos(b.xmin + 2, b.ymin + 1)
            t.setZValue(2)
            t.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
            for item in (r, t):
                self._scene.addItem(item)
                self._boxes.append(item)

    # -- zoom --------------------------------------------------------------------------------
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self._fit = True
        if self.has_image():
            self.fitInView(self._image, Qt.AspectRatioMode.KeepAspectRatio)
        emit(self.zoom_changed, self.zoom())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()
        emit(self.zoom_changed, self.zoom())

    def zoom_by(self, factor: float) -> None:
        new = self.zoom() * factor
        if not 0.02 <= new <= 64:
            return
        self._fit = False
        self.scale(factor, factor)
        emit(self.zoom_changed, self.zoom())

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25**steps)
        event.accept()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()


class ColorBar(QWidget):
    """The overlay's colour bar: evidence for the class (red, top), against it (blue, bottom)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedWidth(84)
        self.setMinimumHeight(80)
        self.setToolTip(
            "SHAP attribution: red pixels pushed the class up, blue ones down, "
            "white ones did not matter (scaled to the map's 99th percentile)"
        )

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        bar = QRectF(4, 14, 14, self.height() - 28)
        g = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        for pos, (r, gg, b) in COLORMAP_STOPS:
            g.setColorAt(pos, QColor(r, gg, b))
        p.fillRect(bar, g)
        p.setPen(self.palette().text().color())
        p.drawText(22, 24, "+ for")
        p.drawText(22, int(bar.center().y()) + 5, "0")
        p.drawText(22, int(bar.bottom()), "− against")
        p.end()
