"""First-run page: open a folder of images, import a labelled dataset, open a workspace, watch."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    open_folder = Signal()
    import_dataset = Signal()
    open_workspace = Signal()
    watch_folder = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        title = QLabel("<h1>Plate Inspector</h1>")
        text = QLabel(
            "Open plate images to see the model's probability for each defect class, "
            "the pixels that drove it, and record your label with the keyboard.<br>"
            "You can also drop files or folders anywhere on this window."
        )
        text.setWordWrap(True)
        text.setMaximumWidth(560)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        for w in (title, text):
            lay.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
        self.buttons: dict[str, QPushButton] = {}
        for key, label, sig in (
            ("folder", "Open a folder of images…  (Ctrl+O)", self.open_folder),
            ("watch", "Watch a folder (line camera)…  (Ctrl+W)", self.watch_folder),
            ("import", "Import a labelled dataset…", self.import_dataset),
            ("workspace", "Open a workspace…", self.open_workspace),
        ):
            b = QPushButton(label)
            b.setMinimumWidth(340)
            b.clicked.connect(sig)
            self.buttons[key] = b
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
