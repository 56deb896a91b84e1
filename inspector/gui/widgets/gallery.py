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
from dataclasses import dataclass, field
from pathlib import Path

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
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from inspector.domain import ImageLoadError, LabelStatus, Prediction
from inspector.gui.qtcompat import emit
from inspector.gui.workers import Cancel, Runner

log = logging.getLogger(__name__)

THUMB = 112
ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

STATUS_COLORS = {
    LabelStatus.UNLABELLED: QColor(120, 124, 130),
    LabelStatus.CONFIRMED: QColor(67, 160, 71),
    LabelStatus.CORRECTED: QColor(255, 160, 0),
}
ALARM = QColor(229, 57, 53)


@dataclass(slots=True)
class Entry:
    """One image in the gallery (mutable on the GUI thread only)."""

    path: str
    prediction: Prediction | None = None
    error: str | None = None
    labels: tuple[str, ...] | None = None
    status: LabelStatus = LabelStatus.UNLABELLED
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def alarm(self) -> bool:
        """A defect class is over threshold (the model says: not clean)."""
        return bool(self.prediction and self.prediction.labels)

    def caption(self) -> str:
        if self.error:
            return "cannot read"
        if self.prediction is None:
            return "…"
        top = max(zip(self.prediction.probabilities, self.prediction.classes, strict=True))
        labels = self.prediction.labels
        if labels:
            return f"{', '.join(labels)} {top[0]:.2f}"
        return f"no defect ({top[1]} {top[0]:.2f})"


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
                wants_cancel=True,
                latest_only=False,
                on_yield=self._on_thumb,
                on_finished=self._on_drained,
                on_error=self._on_drain_error,
            )

    def _drain(self, cancel: Cancel):  # worker thread
        while not cancel.is_set:
            with self._lock:
                if not self._queue:
                    return
                path = self._queue.pop()  # LIFO: what was just scrolled to comes first
                self._queued.discard(path)
            try:
                yield path, make_thumbnail(path)
            except ImageLoadError:
                yield path, None

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
                wants_cancel=True,
                latest_only=False,
                on_yield=self._on_thumb,
                on_finished=self._on_drained,
                on_error=self._on_drain_error,
            )

    def _on_drain_error(self, exc: BaseException) -> None:
        log.error("thumbnail worker failed: %s", getattr(exc, "__traceback_text__", exc))

    def shutdown(self) -> None:
        self.runner.shutdown()

    def __len__(self) -> int:
        return len(self._cache)


class GalleryModel(QAbstractListModel):
    """The images of the session, in display order."""

    def __init__(self, thumbs: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Entry] = []
        self._row_of: dict[str, int] = {}
        self.thumbs = thumbs
        thumbs.ready.connect(self._thumb_ready)

    # -- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        e = self._rows[index.row()]
        if role == ENTRY_ROLE:
            return e
        if role == Qt.ItemDataRole.DisplayRole:
            return e.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.path}\n{e.error or e.caption()}\nstatus: {e.status.value}"
        return None

    # -- editing ------------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        return self._rows

    def entry(self, row: int) -> Entry:
        return self._rows[row]

    def row_of(self, path: str) -> int | None:
        return self._row_of.get(path)

    def add(self, paths: list[str], newest_first: bool = False) -> list[str]:
        """Add paths not already present; return those added."""
        new = []
        seen = set()
        for p in paths:
            if p not in self._row_of and p not in seen:
                seen.add(p)
                new.append(p)
        if not new:
            return []
        if newest_first:
            new.reverse()
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[0:0] = [Entry(p) for p in new]
            self._row_of = {e.path: i for i, e in enumerate(self._rows)}
        else:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(new) - 1)
            for i, p in enumerate(new):
                self._rows.append(Entry(p))
                self._row_of[p] = start + i
        self.endInsertRows()
        return new

    def clear(self) -> None:
        self.beginResetModel()
        self._rows.clear()
        self._row_of.clear()
        self.endResetModel()

    def update(self, path: str, **changes) -> Entry | None:
        row = self._row_of.get(path)
        if row is None:
            return None
        e = self._rows[row]
        for k, v in changes.items():
            setattr(e, k, v)
        idx = self.index(row)
        emit(self.dataChanged, idx, idx)
        return e

    def update_many(self, changes: dict[str, dict]) -> None:
        """Apply {path: {field: value}} and emit one dataChanged over the rows touched."""
        rows = []
        for path, ch in changes.items():
            row = self._row_of.get(path)
            if row is None:
                continue
            e = self._rows[row]
            for k, v in ch.items():
                setattr(e, k, v)
            rows.append(row)
        if rows:
            emit(self.dataChanged, self.index(min(rows)), self.index(max(rows)))

    def _thumb_ready(self, path: str) -> None:
        row = self._row_of.get(path)
        if row is not None:
            idx = self.index(row)
            emit(self.dataChanged, idx, idx, [Qt.ItemDataRole.DecorationRole])


class GalleryFilter(QSortFilterProxyModel):
    """Filter by predicted class, labelled class, or label status ('' = everything)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.predicted = ""
        self.label = ""
        self.status = ""

    def set_filter(self, predicted: str = "", label: str = "", status: str = "") -> None:
        self.beginFilterChange()
        self.predicted, self.label, self.status = predicted, label, status
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not (self.predicted or self.label or self.status):
            return True
        e: Entry = self.sourceModel().entry(row)
        if self.status and e.status.value != self.status:
            return False
        if self.predicted:
            pred = e.prediction.labels if e.prediction else None
            if self.predicted == "no defect":
                if pred is None or pred:
                    return False
            elif not pred or self.predicted not in pred:
                return False
        if self.label:
            if e.labels is None:
                return False
            if self.label == "no defect":
                return not e.labels
            return self.label in e.labels
        return True


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
        if e.alarm or e.error:
            p.setPen(QPen(ALARM, 3))
            p.drawRect(r.adjusted(1, 1, -1, -1))
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
        else:
            p.fillRect(img_r, QColor(58, 60, 64))
        p.fillRect(QRect(r.x(), r.bottom() - 4, r.width(), 4), STATUS_COLORS[e.status])
        p.setPen(QColor(230, 230, 230))
        fm = option.fontMetrics
        p.drawText(
            QRect(r.x() + 3, img_r.bottom() + 2, r.width() - 6, 16),
            Qt.AlignmentFlag.AlignLeft,
            fm.elidedText(e.name, Qt.TextElideMode.ElideMiddle, r.width() - 6),
        )
        p.setPen(ALARM if (e.alarm or e.error) else QColor(170, 200, 170))
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
