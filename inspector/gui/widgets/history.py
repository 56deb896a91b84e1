"""The label history of one image in a dialog: who, when, role, old → new, the model version and
probabilities they saw, reasons, review decisions; "Export…" writes it as CSV."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.history import COLUMNS, HEADERS, HistoryRow, export_csv, image_history
from inspector.domain import InspectorError


class HistoryDialog(QDialog):
    """Reads the history once when opened (a few rows); the table is read-only."""

    def __init__(self, service, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle(f"Label history — {Path(path).name}")
        self.path = path
        self.rows: list[HistoryRow] = image_history(service, path)
        self.table = QTableWidget(len(self.rows), len(HEADERS))
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels(list(HEADERS))
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, row in enumerate(self.rows):
            for j, name in enumerate(COLUMNS):
                item = QTableWidgetItem(getattr(row, name))
                item.setToolTip(getattr(row, name))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        for j in range(len(HEADERS)):
            self.table.setColumnWidth(j, min(self.table.columnWidth(j), 220))
        self.table.horizontalHeader().setSectionResizeMode(
            len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch
        )
        self.status = QLabel(
            f"{path} · {len(self.rows)} entr{'y' if len(self.rows) == 1 else 'ies'}"
            " (the history is append-only)"
        )
        self.status.setObjectName("keysHint")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_btn = QPushButton("Export…")
        buttons.addButton(self.export_btn, QDialogButtonBox.ButtonRole.ActionRole)
        self.export_btn.clicked.connect(self.export_dialog)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(self.status)
        lay.addWidget(buttons)
        self.resize(1180, 360)

    def export_dialog(self) -> None:
        name = f"{Path(self.path).stem}-history.csv"
        out, _ = QFileDialog.getSaveFileName(self, "Export the label history", name, "CSV (*.csv)")
        if out:
            self.export(out)

    def export(self, out: str) -> None:
        try:
            n = export_csv(self.rows, out)
        except InspectorError as exc:
            self.status.setText(str(exc))
            return
        self.status.setText(f"Exported {n} entries to {out}")
