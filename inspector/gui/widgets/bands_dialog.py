"""The sign-off queue's bands: how close to a threshold a probability must be to count as doubtful.

The store measures the distance in log-odds (:func:`inspector.store.scoring.doubt`), which a
supervisor does not think in; the dialog shows, live, the probabilities each band spans around
a threshold of 0.5 and around the thresholds of the plate on screen, in the model's class order.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QWidget,
)

from inspector.store.predictions import MAX_BAND
from inspector.store.scoring import band_edges


class BandsDialog(QDialog):
    """Two spin boxes (around a threshold; when no class passes) and what they mean."""

    def __init__(
        self,
        band: float,
        none_over_band: float,
        thresholds: Sequence[tuple[str, float]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bandsDialog")
        self.setWindowTitle("Sign-off queue bands")
        self._thresholds = list(thresholds)
        self.band = self._spin(band)
        self.none_band = self._spin(none_over_band)
        self.meaning = QLabel()
        self.meaning.setObjectName("bandsMeaning")
        self.meaning.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(QLabel("A decision is doubtful when a class's probability lies within"))
        form.addRow("log-odds of its threshold:", self.band)
        form.addRow("or, when no class passes, the closest within:", self.none_band)
        form.addRow(self.meaning)
        form.addRow(buttons)
        self.band.valueChanged.connect(self._explain)
        self._explain()

    def _spin(self, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.1, MAX_BAND)
        box.setSingleStep(0.1)
        box.setDecimals(2)
        box.setValue(value)
        return box

    def _explain(self) -> None:
        band = self.band.value()
        lines = ["Doubtful probabilities (class, its threshold: the band):"]
        lines.append("a threshold of 0.50: {:.2f}–{:.2f}".format(*band_edges(0.5, band)))
        for name, t in self._thresholds:  # the model of the plate on screen
            lo, hi = band_edges(t, band)
            lines.append(f"{name}, {t:.2f}: {lo:.2f}–{hi:.2f}")
        self.meaning.setText("\n".join(lines))

    def values(self) -> tuple[float, float]:
        return self.band.value(), self.none_band.value()
