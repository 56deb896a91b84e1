"""Problems list: files that could not be used, with the reason; never a dialog per file."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from inspector.gui.qtcompat import emit


class ProblemsList(QListWidget):
    """One line per problem: ``name — reason``; the full path in the tooltip."""

    count_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problems")
        self._paths: set[str] = set()
        self.setAlternatingRowColors(True)
        self.setMinimumHeight(36)  # two rows; the dock may be small on a 700 px screen

    def add_problem(self, path: str, reason: str) -> None:
        key = f"{path}\0{reason}"
        if key in self._paths:
            return
        self._paths.add(key)
        name = path.rsplit("/", 1)[-1] if path else ""
        item = QListWidgetItem(f"{name} — {reason}" if name else reason)
        item.setToolTip(path)
        item.setData(Qt.ItemDataRole.UserRole, path)
        self.insertItem(0, item)
        emit(self.count_changed, self.count())

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setHeight(36)
        return hint

    def problems(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
