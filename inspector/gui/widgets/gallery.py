"""The gallery: a virtualised QListView over a QAbstractListModel, painted by a delegate.

Only the rows on screen are ever painted, and painting only *asks* :class:`ThumbnailCache` for a
pixmap: a miss queues the path (newest request first, so the rows being looked at win) and returns
None; a worker decodes and shrinks the image to a QImage; the pixmap is made on the GUI thread and
kept in an LRU cache, then the row is repainted. 10,000 rows cost 10,000 small Python objects.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from inspector.controllers.entries import Entry, GalleryFilter
from inspector.controllers.inspect import InspectController
from inspector.domain import ImageLoadError, LabelStatus
from inspector.gui.qtcompat import emit
from inspector.gui.widgets.unfamiliar_badge import UNFAMILIAR_COLOR
from inspector.gui.workers import Runner
from inspector.jobs import CancelFn, Job, Partial

log = logging.getLogger(__name__)

THUMB = 112
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

STATUS_COLORS = {
    LabelStatus.UNLABELLED: QColor(120, 124, 130),
    LabelStatus.CONFIRMED: QColor(67, 160, 71),
    LabelStatus.CORRECTED: QColor(255, 160, 0),
}
ALARM = QColor(229, 57, 53)
UNREADABLE = QColor(255, 179, 0)


def make_thumbnail(path: str, size: int = THUMB) -> QImage:
    """Decode and shrink one image to a grayscale QImage (runs in a worker thread)."""
    import cv2

    from inspector.imageio import load_image

    gray = load_image(path)
    h, w = gray.shape
    s = size / max(h, w)
    if s < 1:
        gray = cv2.resize(
            gray, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
        )
    return gray_to_qimage(gray)


def gray_to_qimage(gray) -> QImage:
    """2-D uint8 ndarray -> an owning Grayscale8 QImage."""
    import numpy as np

    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    h, w = gray.shape
    # .copy(): the QImage must own its pixels once the numpy buffer goes away.
    return QImage(gray.data, w, h, gray.strides[0], QImage.Format.Format_Grayscale8).copy()


class ThumbnailCache(QObject):
    """Lazily decoded, LRU-cached thumbnails; decoding in its own one-thread runner."""

    ready = Signal(str)

    def __init__(self, parent: QObject | None = None, capacity: int = 3000) -> None:
        super().__init__(parent)
        self.runner = Runner(self, max_threads=1)
        self._cache: OrderedDict[str, QPixmap] = OrderedDict()
        self._failed: set[str] = set()
        self._capacity = capacity
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._draining = False

    def get(self, path: str) -> QPixmap | None:
        pm = self._cache.get(path)
        if pm is not None:
            self._cache.move_to_end(path)
            return pm
        if path not in self._failed:
            self._request(path)
        return None

    def _request(self, path: str) -> None:
        with self._lock:
            if path in self._queued:
                return
            self._queued.add(path)
            self._queue.append(path)
            if len(self._queue) > 400:  # scrolled far away: forget the oldest requests
                self._queued.discard(self._queue.popleft())
        if not self._draining:
            self._draining = True
            self.runner.submit(
                "thumbs",
                self._drain,
                latest_only=False,
                on_partial=self._on_thumb,
                on_finished=self._on_drained,
            )

    def _drain(self, cancel: CancelFn) -> Job[None]:  # worker thread
        while not cancel():
            with self._lock:
                if not self._queue:
                    return
                path = self._queue.pop()  # LIFO: what was just scrolled to comes first
                self._queued.discard(path)
            try:
                yield Partial((path, make_thumbnail(path)))
            except ImageLoadError:
                yield Partial((path, None))

    def _on_thumb(self, item: tuple[str, QImage | None]) -> None:
        path, img = item
        if img is None:
            self._failed.add(path)
        else:
            self._cache[path] = QPixmap.fromImage(img)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        emit(self.ready, path)

    def _on_drained(self) -> None:
        self._draining = False
        with self._lock:
            more = bool(self._queue)
        if more:
            self._draining = True
            self.runner.submit(
                "thumbs",
                self._drain,
                latest_only=False,
                on_partial=self._on_thumb,
                on_finished=self._on_drained,
            )

    def shutdown(self) -> None:
        self.runner.shutdown()

    def __len__(self) -> int:
        return len(self._cache)


class GalleryModel(QAbstractListModel):
    """A Qt view of the controller's image list: no data of its own, only row bookkeeping."""

    def __init__(
        self, controller: InspectController, thumbs: ThumbnailCache, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.ctl = controller
        self.thumbs = thumbs
        thumbs.ready.connect(self._thumb_ready)
        controller.inserting.connect(
            lambda row, n: self.beginInsertRows(QModelIndex(), row, row + n - 1)
        )
        controller.inserted.connect(self.endInsertRows)
        controller.changed.connect(self._rows_changed)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ctl.entries)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid() or index.row() >= len(self.ctl.entries):
            return None
        e = self.ctl.entries[index.row()]
        if role == ENTRY_ROLE:
            return e
        if role == Qt.ItemDataRole.DisplayRole:
            return e.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.path}\n{e.error or e.caption()}\nstatus: {e.status.value}"
        return None

    def _rows_changed(self, rows: list[int]) -> None:
        emit(self.dataChanged, self.index(min(rows)), self.index(max(rows)))

    def _thumb_ready(self, path: str) -> None:
        row = self.ctl.row_of(path)
        if row is not None:
            idx = self.index(row)
            emit(self.dataChanged, idx, idx, [Qt.ItemDataRole.DecorationRole])


class GalleryFilterProxy(QSortFilterProxyModel):
    """Shows the rows the controller's :class:`GalleryFilter` accepts."""

    def __init__(self, controller: InspectController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctl = controller
        controller.filter_changed.connect(self._refilter)

    def _refilter(self, _f: GalleryFilter) -> None:
        self.beginFilterChange()
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        f = self.ctl.filter
        return f.accepts(self.ctl.entries[row])


class GalleryDelegate(QStyledItemDelegate):
    """Thumbnail, file name, the model's call with its confidence, a label-status stripe."""

    def __init__(self, thumbs: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        return QSize(THUMB + 16, THUMB + 44)

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index) -> None:
        e: Entry | None = index.data(ENTRY_ROLE)
        if e is None:
            return
        r: QRect = option.rect.adjusted(3, 3, -3, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.save()
        p.fillRect(r, QColor(66, 90, 140) if selected else QColor(44, 46, 50))
        if e.error:  # unreadable: a dashed grey frame, not a defect alarm
            p.setPen(QPen(UNREADABLE, 2, Qt.PenStyle.DashLine))
            p.drawRect(r.adjusted(1, 1, -1, -1))
        else:
            if e.alarm:
                p.setPen(QPen(ALARM, 3))
                p.drawRect(r.adjusted(1, 1, -1, -1))
            if e.unfamiliar:  # a dashed frame (inside the alarm's): the model may be wrong
                inset = 4 if e.alarm else 1
                p.setPen(QPen(UNFAMILIAR_COLOR, 3, Qt.PenStyle.DashLine))
                p.drawRect(r.adjusted(inset, inset, -inset, -inset))
        img_r = QRect(r.x() + (r.width() - THUMB) // 2, r.y() + 4, THUMB, THUMB)
        pm = None if e.error else self.thumbs.get(e.path)
        if pm is not None:
            s = pm.size().scaled(img_r.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(
                img_r.x() + (THUMB - s.width()) // 2,
                img_r.y() + (THUMB - s.height()) // 2,
                s.width(),
                s.height(),
            )
            p.drawPixmap(target, pm)
        elif e.error:
            p.fillRect(img_r, QBrush(QColor(70, 70, 74), Qt.BrushStyle.BDiagPattern))
            p.setPen(UNREADABLE)
            p.drawText(img_r, Qt.AlignmentFlag.AlignCenter, "?")
        else:
            p.fillRect(img_r, QColor(58, 60, 64))
        if not e.error:  # an unreadable file has no label status: it cannot be labelled
            p.fillRect(QRect(r.x(), r.bottom() - 4, r.width(), 4), STATUS_COLORS[e.status])
        p.setPen(QColor(230, 230, 230))
        fm = option.fontMetrics
        p.drawText(
            QRect(r.x() + 3, img_r.bottom() + 2, r.width() - 6, 16),
            Qt.AlignmentFlag.AlignLeft,
            fm.elidedText(e.name, Qt.TextElideMode.ElideMiddle, r.width() - 6),
        )
        p.setPen(
            UNREADABLE
            if e.error
            else UNFAMILIAR_COLOR.lighter(130)
            if e.unfamiliar
            else ALARM
            if e.alarm
            else QColor(170, 200, 170)
        )
        p.drawText(
            QRect(r.x() + 3, img_r.bottom() + 17, r.width() - 6, 16),
            Qt.AlignmentFlag.AlignLeft,
            fm.elidedText(e.caption(), Qt.TextElideMode.ElideRight, r.width() - 6),
        )
        p.restore()


class GalleryView(QListView):
    """Icon-mode grid with uniform item sizes (so Qt never measures 10,000 rows)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("gallery")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setSpacing(2)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
