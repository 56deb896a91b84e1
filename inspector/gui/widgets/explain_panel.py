"""SHAP overlay controls: class picker, show toggle, opacity slider, colour bar, progress, flags."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QSlider,
    QWidget,
)

from inspector.gui.qtcompat import emit
from inspector.gui.widgets.image_view import ColorBar


class ExplainPanel(QGroupBox):
    toggled = Signal(bool)  # show the heatmap or not
    positive_only_changed = Signal(bool)  # evidence for the class only, or for and against
    class_chosen = Signal(str)  # the person picked another class
    opacity_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Explanation (SHAP)", parent)
        self.setObjectName("explainPanel")
        self.show_box = QCheckBox("Show heatmap (H)")
        self.positive_box = QCheckBox("Only for the class (P)")
        self.positive_box.setToolTip("Hide the blue pixels (evidence against the class)")
        self.class_combo = QComboBox()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setToolTip("Overlay opacity")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.edge_flag = QLabel("⚠ The model looks mostly at the image edges")
        self.edge_flag.setObjectName("edgeFlag")
        self.edge_flag.setStyleSheet("color: #ffb300; font-weight: bold;")
        self.edge_flag.setVisible(False)
        self.colorbar = ColorBar()
        grid = QGridLayout(self)
        grid.addWidget(self.show_box, 0, 0, 1, 2)
        grid.addWidget(QLabel("Class"), 1, 0)
        grid.addWidget(self.class_combo, 1, 1)
        grid.addWidget(QLabel("Opacity"), 2, 0)
        grid.addWidget(self.opacity, 2, 1)
        grid.addWidget(self.positive_box, 3, 0, 1, 2)
        grid.addWidget(self.progress, 4, 0, 1, 2)
        grid.addWidget(self.message, 5, 0, 1, 2)
        grid.addWidget(self.edge_flag, 6, 0, 1, 2)
        grid.addWidget(self.colorbar, 0, 2, 7, 1)
        self.show_box.toggled.connect(lambda on: emit(self.toggled, on))
        self.positive_box.toggled.connect(lambda on: emit(self.positive_only_changed, on))
        self.class_combo.currentIndexChanged.connect(
            lambda _i: emit(self.class_chosen, self.class_combo.currentText())
        )
        self.opacity.valueChanged.connect(lambda v: emit(self.opacity_changed, v / 100))

    def set_classes(self, classes: tuple[str, ...], preferred: str | None = None) -> None:
        self.class_combo.blockSignals(True)
        current = preferred or self.class_combo.currentText()
        self.class_combo.clear()
        self.class_combo.addItems(list(classes))
        if current in classes:
            self.class_combo.setCurrentText(current)
        self.class_combo.blockSignals(False)

    def current_class(self) -> str:
        return self.class_combo.currentText()

    def set_busy(self, done: int | None, total: int | None = None, text: str = "") -> None:
        if done is None:
            self.progress.setVisible(False)
            return
        self.progress.setVisible(True)
        self.progress.setRange(0, total or 0)
        self.progress.setValue(done)
        self.progress.setFormat(text or "%p%")

    def set_message(self, text: str) -> None:
        self.message.setText(text)
