"""The "unfamiliar plate" badge: a label laid over an image view's top-left corner, shown when
the model has not seen plates like the one on screen (:attr:`Prediction.is_unfamiliar`)."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from inspector.controllers.entries import UNFAMILIAR, unfamiliar_note
from inspector.domain import Prediction

#: The colour of everything that marks an unfamiliar plate (badge in style.qss, frames, text).
UNFAMILIAR_COLOR = QColor(171, 71, 188)


class UnfamiliarBadge(QLabel):
    """Child of the image view, so it sits on the image, where the person is looking."""

    def __init__(self, over: QWidget) -> None:
        super().__init__(f"◆ {UNFAMILIAR.upper()}", over)
        self.setObjectName("unfamiliarBadge")  # styled in style.qss
        self.move(8, 8)
        self.setVisible(False)

    def show_for(self, prediction: Prediction | None) -> None:
        """Visible (with why, in the tooltip) for an unfamiliar plate's prediction only."""
        note = unfamiliar_note(prediction) if prediction is not None else ""
        self.setToolTip(note)
        self.adjustSize()
        self.setVisible(bool(note))
        if note:
            self.raise_()
