"""The Model view (F6): fine-tune now, progress with ETA, curves, cancel, compare, promote/discard.

Binds widgets to :class:`~inspector.controllers.finetune.ModelController` and keeps no state;
the training process is a :class:`~inspector.gui.training_runner.TrainingRunner` (QProcess).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.finetune import ModelController
from inspector.domain import InspectorError, Role
from inspector.gui.training_runner import TrainingRunner
from inspector.gui.workers import Runner


def _fmt(v) -> str:
    return "" if v is None else f"{v:.4f}"


class ModelView(QWidget):
    open_image = Signal(str)  # a flip's path: the window shows it in Inspect

    def __init__(
        self, controller: ModelController, parent: QWidget | None = None, jobs: Runner | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("modelView")
        self.c = controller
        self.jobs = jobs  # the window's worker pool: the preview reads the whole store
        self.runner = TrainingRunner(controller, self)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.start_button = QPushButton("Fine-tune now")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.eta = QLabel()
        top = QHBoxLayout()
        for w in (self.start_button, self.cancel_button, self.progress, self.eta):
            top.addWidget(w)

        self.plot = self._make_plot()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setObjectName("trainingLog")

        self.versions = QListWidget()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["evaluation set", "active", "candidate"])
        self.flips = QListWidget()
        self.promote_button = QPushButton("Promote")
        self.discard_button = QPushButton("Discard")
        self.rollback_button = QPushButton("Roll back")
        actions = QHBoxLayout()
        for w in (self.promote_button, self.discard_button, self.rollback_button):
            actions.addWidget(w)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("Versions"))
        lv.addWidget(self.versions)
        lv.addLayout(actions)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.table)
        right.addWidget(self.flips)
        if self.plot is not None:
            right.addWidget(self.plot)
        right.addWidget(self.log)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 3)

        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        self.start_button.clicked.connect(lambda: self.runner.start())
        self.cancel_button.clicked.connect(self.runner.cancel)
        self.promote_button.clicked.connect(self.promote)
        self.discard_button.clicked.connect(self.discard)
        self.rollback_button.clicked.connect(self.rollback)
        self.versions.currentTextChanged.connect(lambda _t: self._show_selected())
        self.flips.itemActivated.connect(
            lambda it: self.open_image.emit(it.data(Qt.ItemDataRole.UserRole))
        )
        controller.changed.connect(self._render_run)
        controller.versions_changed.connect(lambda: self.refresh(controller.state.candidate))
        self._render_run()  # the store is read when the view is first shown, not at start-up

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def _make_plot(self):
        try:
            import pyqtgraph as pg
        except ImportError:  # optional: the log shows the same numbers
            return None
        w = pg.PlotWidget(title="loss (red) · validation macro AP (blue)")
        w.setMinimumHeight(140)
        self._loss = w.plot(pen="r", symbol="o")
        self._ap = w.plot(pen="b", symbol="t")
        return w

    # -- rendering -----------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        if self.jobs is not None:
            self.summary.setText("Looking at the workspace's labels…")
            self.jobs.submit("model-summary", self.c.summary, on_result=self.summary.setText)
        else:  # no window around (a script): read it here
            self.summary.setText(self.c.summary())
        try:
            rows = self.c.versions()
        except InspectorError as exc:
            self.summary.setText(str(exc))
            rows = []
        candidates = [r.name for r in rows if r.status == "candidate"]
        want = select or self.selected() or (candidates[-1] if candidates else None)
        self.versions.blockSignals(True)
        self.versions.clear()
        for r in rows:
            it = QListWidgetItem(f"{r.name}  [{r.status}]")
            it.setData(Qt.ItemDataRole.UserRole, r.name)
            self.versions.addItem(it)
            if r.name == want:
                self.versions.setCurrentItem(it)
        self.versions.blockSignals(False)
        supervisor = self.c.role == Role.SUPERVISOR
        for b in (self.promote_button, self.discard_button, self.rollback_button):
            b.setEnabled(supervisor)
            b.setToolTip("" if supervisor else "supervisors only")
        self._show_selected()

    def selected(self) -> str | None:
        it = self.versions.currentItem()
        return None if it is None else it.data(Qt.ItemDataRole.UserRole)

    def _show_selected(self) -> None:
        name = self.selected()
        rows = self.c.comparison_rows(name) if name else []
        self.table.setRowCount(len(rows))
        for i, (metric, base, cand) in enumerate(rows):
            for j, text in enumerate((metric, _fmt(base), _fmt(cand))):
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.flips.clear()
        for f in self.c.flips(name) if name else []:
            it = QListWidgetItem(
                f"[{f['change']}] {f['path']}: {','.join(f['before']) or 'none'} → "
                f"{','.join(f['after']) or 'none'} (label {','.join(f['truth'])}, {f['set']})"
            )
            it.setData(Qt.ItemDataRole.UserRole, f["path"])
            self.flips.addItem(it)

    def _render_run(self) -> None:
        s = self.c.state
        running = s.phase == "running"
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setRange(0, max(1, s.total))
        self.progress.setValue(s.done)
        self.eta.setText(
            f"{s.phase}" + (f" · ETA {s.eta_s:.0f} s" if running and s.eta_s is not None else "")
        )
        self.log.setPlainText("\n".join(s.log))
        if self.plot is not None and s.curve:
            xs = [e for e, _, _ in s.curve]
            self._loss.setData(xs, [loss for _, loss, _ in s.curve])
            self._ap.setData(xs, [ap for _, _, ap in s.curve])

    # -- decisions -----------------------------------------------------------------------------
    def _try(self, fn) -> bool:
        try:
            fn()
        except InspectorError as exc:
            QMessageBox.warning(self, "Plate Inspector", str(exc))
            return False
        return True

    def promote(self, override: str | None = None) -> bool:
        name = self.selected()
        if not name:
            return False
        try:
            self.c.promote(name, override or "")
        except InspectorError as exc:
            if override is not None or "refused" not in str(exc):
                QMessageBox.warning(self, "Plate Inspector", str(exc))
                return False
            reason, ok = QInputDialog.getText(
                self, "Regression gate", f"{exc}\n\nWritten reason to promote anyway:"
            )
            if not ok or not reason.strip():
                return False
            return self.promote(reason)
        return True

    def discard(self) -> bool:
        name = self.selected()
        return bool(name) and self._try(lambda: self.c.discard(name))

    def rollback(self) -> bool:
        return self._try(lambda: self.c.rollback(None))

    def shutdown(self) -> None:
        self.runner.shutdown()
