"""Small dialogs: who is working (asked once), the shortcuts help, the unexpected-error dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import Role


class IdentityDialog(QDialog):
    """Name and role, written into every label event."""

    def __init__(self, user: str = "", role: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Who is inspecting?")
        self.name = QLineEdit(user)
        self.name.setPlaceholderText("your name or badge id")
        self.role = QComboBox()
        self.role.addItems([r.value for r in Role])
        if role:
            self.role.setCurrentText(role)
        form = QFormLayout(self)
        form.addRow(QLabel("Your name and role are saved with every label you make."))
        form.addRow("Name", self.name)
        form.addRow("Role", self.role)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self._ok)
        form.addRow(self.buttons)

    def _ok(self) -> None:
        if self.name.text().strip():
            self.accept()
        else:
            self.name.setFocus()

    def values(self) -> tuple[str, str]:
        return self.name.text().strip(), self.role.currentText()


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        for i, (keys, text) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(keys))
            table.setItem(i, 1, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.resizeRowsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().setVisible(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # show every row and the whole text without scrolling (fits a 1024x700 screen)
        width = sum(table.columnWidth(c) for c in range(2)) + 4 * table.frameWidth() + 8
        height = table.horizontalHeader().height() + sum(
            table.rowHeight(r) for r in range(len(rows))
        )
        table.setMinimumSize(min(width, 980), min(height + 4 * table.frameWidth(), 600))
        lay = QVBoxLayout(self)
        lay.addWidget(table)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)
        self.adjustSize()


def show_unexpected_error(text: str, log_path: str, parent: QWidget | None = None) -> None:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Critical)
    box.setWindowTitle("Unexpected error")
    box.setText("Something went wrong inside Plate Inspector. Your saved labels are safe.")
    box.setInformativeText(f"The details were written to {log_path}.")
    box.setDetailedText(text)
    box.exec()
