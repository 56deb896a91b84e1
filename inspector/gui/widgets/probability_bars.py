"""One bar per class: sigmoid probability, the class threshold marked, the value as text.

Classes over their threshold (the prediction) are drawn in the alarm colour and listed in the
summary line; "no defect" when none is. The key hint (1..9) shows which digit toggles the class.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from inspector.controllers.entries import UNFAMILIAR
from inspector.domain import NO_DEFECT, Prediction
from inspector.gui.widgets.unfamiliar_badge import UNFAMILIAR_COLOR

ALARM = QColor(229, 57, 53)
OK = QColor(67, 160, 71)
BAR_BG = QColor(60, 63, 68)
LABEL_MARK = QColor(255, 202, 40)

ROW_H = 26


class ProbabilityBars(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self._pred: Prediction | None = None
        self._classes: tuple[str, ...] = ()
        self._labels: tuple[str, ...] | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def set_classes(self, classes: tuple[str, ...]) -> None:
        self._classes = tuple(classes)
        self.updateGeometry()
        self.update()

    def set_prediction(self, pred: Prediction | None) -> None:
        self._pred = pred
        if pred is not None and pred.classes != self._classes:
            self.set_classes(pred.classes)
        self.update()

    def set_labels(self, labels: tuple[str, ...] | None) -> None:
        """The person's current labels, marked beside the bars (None = not labelled yet)."""
        self._labels = labels
        self.update()

    def summary(self) -> str:
        """The prediction in words, e.g. 'crazing 0.91, scratches 0.62' or 'no defect'."""
        if self._pred is None:
            return "no prediction"
        over = [
            (c, p)
            for c, p, t in zip(
                self._pred.classes, self._pred.probabilities, self._pred.thresholds, strict=True
            )
            if p >= t
        ]
        if self._pred.is_unfamiliar:
            # the model cannot judge this plate: never a plain "no defect"
            what = ", ".join(f"{c} {p:.2f}" for c, p in over) or "nothing over threshold"
            return f"{UNFAMILIAR} · {what}"
        return ", ".join(f"{c} {p:.2f}" for c, p in over) if over else NO_DEFECT

    def text_values(self) -> list[str]:
        if self._pred is None:
            return []
        return [
            f"{c}: {p:.3f} (threshold {t:.2f})"
            for c, p, t in zip(
                self._pred.classes, self._pred.probabilities, self._pred.thresholds, strict=True
            )
        ]

    def sizeHint(self) -> QSize:
        return QSize(300, ROW_H * max(1, len(self._classes)) + 30)

    def minimumSizeHint(self) -> QSize:
        return QSize(220, self.sizeHint().height())

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().text().color()
        w = self.width()
        name_w, val_w, key_w = 118, 48, 18
        bar_x = key_w + name_w
        bar_w = max(20, w - bar_x - val_w - 6)
        probs = (
            dict(zip(self._pred.classes, self._pred.probabilities, strict=True))
            if self._pred
            else {}
        )
        ths = (
            dict(zip(self._pred.classes, self._pred.thresholds, strict=True)) if self._pred else {}
        )
        labels = set(self._labels or ())
        for i, cls in enumerate(self._classes):
            y = 4 + i * ROW_H
            font = QFont(self.font())
            font.setBold(cls in labels)
            p.setFont(font)
            p.setPen(text)
            if i < 9:
                p.drawText(
                    QRectF(0, y, key_w, ROW_H - 6), Qt.AlignmentFlag.AlignVCenter, str(i + 1)
                )
            if cls in labels:
                p.fillRect(QRectF(key_w - 4, y + 3, 3, ROW_H - 12), LABEL_MARK)
            p.drawText(
                QRectF(key_w, y, name_w - 4, ROW_H - 6),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                self.fontMetrics().elidedText(cls, Qt.TextElideMode.ElideRight, name_w - 6),
            )
            rect = QRectF(bar_x, y + 3, bar_w, ROW_H - 12)
            p.fillRect(rect, BAR_BG)
            if cls in probs:
                pr, th = probs[cls], ths[cls]
                fill = QRectF(
                    rect.x(), rect.y(), rect.width() * max(0.0, min(1.0, pr)), rect.height()
                )
                p.fillRect(fill, ALARM if pr >= th else OK)
                x = rect.x() + rect.width() * th
                p.setPen(QPen(text, 2))
                p.drawLine(int(x), int(rect.y() - 3), int(x), int(rect.bottom() + 3))
                p.setPen(text)
                p.drawText(
                    QRectF(bar_x + bar_w + 4, y, val_w, ROW_H - 6),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                    f"{pr:.2f}",
                )
        y = 6 + len(self._classes) * ROW_H
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        s = self.summary()
        unfamiliar = self._pred is not None and self._pred.is_unfamiliar
        p.setPen(
            UNFAMILIAR_COLOR.lighter(140)
            if unfamiliar
            else ALARM
            if s not in (NO_DEFECT, "no prediction")
            else text
        )
        p.drawText(
            QRectF(0, y, w, 20),
            Qt.AlignmentFlag.AlignLeft,
            p.fontMetrics().elidedText(f"Model: {s}", Qt.TextElideMode.ElideRight, w),
        )
        p.end()
