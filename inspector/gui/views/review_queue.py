"""The supervisors' sign-off queue (F4): doubtful label decisions, one page at a time.

Keys while this view is shown: A approve, O override (with the classes ticked and a reason),
H heatmap, ↑/↓ (or J/K) move, PgUp/PgDn page, Ctrl+R sign-off report, Ctrl+B the queue's bands
(how close to a threshold a decision must be to land here; supervisors).

A thin view over :class:`~inspector.controllers.review_queue.ReviewQueueController`: widgets
forward every action to it and redraw from its signals; the table model only adapts the
controller's current page for Qt.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QDateTime,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.heatmaps import Heatmap
from inspector.controllers.review_queue import (
    PAGE_SIZE,
    ReviewQueueController,
    day_bounds,
    reasons,
    shift_bounds,
)
from inspector.controllers.supervision import QueueFilter, QueueItem
from inspector.domain import NO_DEFECT, InspectorError
from inspector.gui import jobs
from inspector.gui.signoff_pdf import ReportFiles, report_job
from inspector.gui.widgets.bands_dialog import BandsDialog
from inspector.gui.widgets.elided_label import ElidedLabel
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.probability_bars import ProbabilityBars
from inspector.gui.widgets.unfamiliar_badge import UNFAMILIAR_COLOR, UnfamiliarBadge
from inspector.gui.workers import Runner

ANY_USER = "anyone"
COLUMNS = ("Plate", "Why it is here", "Label", "Labelled by", "When (UTC)", "Model")


def _when(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).strftime("%m-%d %H:%M")
    except ValueError:
        return iso


def _labels(labels: tuple[str, ...] | None) -> str:
    if labels is None:
        return "not labelled"
    return ", ".join(labels) if labels else NO_DEFECT


class QueueTableModel(QAbstractTableModel):
    """The controller's current page as table rows (no state of its own beyond that list)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[QueueItem] = []
        self._rows: list[tuple[str, ...]] = []  # display texts, made once per page
        self._edge: list[bool] = []
        self._unfamiliar: list[bool] = []

    def set_items(self, items: list[QueueItem], why=reasons) -> None:
        self.beginResetModel()
        self.items = list(items)
        self._rows = [
            (
                Path(it.path).name,
                "; ".join(why(it)),
                _labels(it.labels),
                it.labelled_by,
                _when(it.labelled_at),
                it.seen_model or it.model_version,
            )
            for it in self.items
        ]
        self._edge = ["edge" in it.flags for it in self.items]
        self._unfamiliar = ["unfamiliar" in it.flags for it in self.items]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[row][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self.items[row].path}\n{self._rows[row][1]}"
        if role == Qt.ItemDataRole.ForegroundRole and col == 1 and self._unfamiliar[row]:
            return UNFAMILIAR_COLOR.lighter(140)
        if role == Qt.ItemDataRole.ForegroundRole and col == 1 and self._edge[row]:
            return QColor(255, 179, 0)
        return None


class ReportDialog(QDialog):
    """The sign-off report's period: this shift (the last 8 hours) or any span, in UTC."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign-off report")
        since, until = shift_bounds()
        self.since = QDateTimeEdit(QDateTime.fromString(since[:19], Qt.DateFormat.ISODate))
        self.until = QDateTimeEdit(QDateTime.fromString(until[:19], Qt.DateFormat.ISODate))
        for w in (self.since, self.until):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        shift = QPushButton("This shift (last 8 h)")
        shift.clicked.connect(self._shift)
        form = QFormLayout(self)
        form.addRow("From (UTC)", self.since)
        form.addRow("To (UTC)", self.until)
        form.addRow("", shift)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _shift(self) -> None:
        since, until = shift_bounds()
        self.since.setDateTime(QDateTime.fromString(since[:19], Qt.DateFormat.ISODate))
        self.until.setDateTime(QDateTime.fromString(until[:19], Qt.DateFormat.ISODate))

    def bounds(self) -> tuple[str, str]:
        """ISO (UTC) ``since`` / ``until`` as the store compares them."""

        def iso(w: QDateTimeEdit) -> str:
            return w.dateTime().toString("yyyy-MM-ddTHH:mm:ss.000+00:00")

        return iso(self.since), iso(self.until)


class ReviewQueueView(QWidget):
    """Queue table, the plate with its heatmap, probabilities, approve / override, report."""

    def __init__(
        self, controller: ReviewQueueController, runner: Runner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reviewQueueView")
        self.ctl = controller
        self.runner = runner
        self.classes: tuple[str, ...] = ()

        # -- filters and paging --
        self.model_combo = QComboBox()
        self.user_combo = QComboBox()
        self.user_combo.addItem(ANY_USER)
        self.dates = QCheckBox("Labelled from")
        self.dates.setToolTip("Only decisions made on these days (UTC)")
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-7))
        self.date_to = QDateEdit(today)
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
        self.dates.toggled.connect(self.date_from.setEnabled)
        self.dates.toggled.connect(self.date_to.setEnabled)
        for w in (self.model_combo, self.user_combo, self.dates, self.date_from, self.date_to):
            w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for combo in (self.model_combo, self.user_combo):
            # never let a long model or user name widen the window (the combo elides instead)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.model_combo.currentIndexChanged.connect(self._filter_edited)
        self.user_combo.currentIndexChanged.connect(self._filter_edited)
        self.dates.toggled.connect(self._filter_edited)
        self.date_from.dateChanged.connect(self._filter_edited)
        self.date_to.dateChanged.connect(self._filter_edited)
        self.prev_btn = QPushButton("◀")
        self.next_btn = QPushButton("▶")
        self.prev_btn.setToolTip("Previous page (PgUp)")
        self.next_btn.setToolTip("Next page (PgDn)")
        self.prev_btn.clicked.connect(controller.previous_page)
        self.next_btn.clicked.connect(controller.next_page)
        self.page_label = QLabel("")
        self.page_label.setObjectName("pageLabel")
        # fixed sizes: a changing text must not re-lay-out (and repaint) the whole view
        self.page_label.setFixedWidth(150)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.report_btn = QPushButton("Sign-off report…")
        self.report_btn.setToolTip("CSV and printable PDF of the review decisions (Ctrl+R)")
        self.report_btn.clicked.connect(self.report_dialog)
        self.bands_btn = QPushButton("Queue bands…")
        self.bands_btn.setToolTip(
            "How close to a threshold a decision must be to land here (Ctrl+B)"
        )
        self.bands_btn.clicked.connect(self.bands_dialog)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.model_combo, 1)
        bar.addWidget(QLabel("Labelled by"))
        bar.addWidget(self.user_combo, 1)
        bar.addWidget(self.dates)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.date_to)
        bar.addStretch(1)
        bar.addWidget(self.bands_btn)
        bar.addWidget(self.report_btn)
        pager = QHBoxLayout()
        pager.addStretch(1)
        pager.addWidget(self.prev_btn)
        pager.addWidget(self.page_label)
        pager.addWidget(self.next_btn)
        pager.addStretch(1)

        # -- the queue --
        self.table_model = QueueTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("reviewTable")
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # why: takes what is left
        hh.setMinimumSectionSize(40)
        for col, w in enumerate((92, 200, 92, 92, 104, 120)):
            self.table.setColumnWidth(col, w)
        self.table.selectionModel().currentRowChanged.connect(
            lambda cur, _prev: controller.select(cur.row()) if cur.isValid() else None
        )

        # -- the plate --
        self.caption = ElidedLabel("")
        self.caption.setObjectName("imageCaption")
        self.image_view = ImageView()
        self.badge = UnfamiliarBadge(self.image_view)
        self.heatmap_note = QLabel("H: heatmap of the top class")
        self.heatmap_note.setObjectName("keysHint")
        center = QWidget()
        cv = QVBoxLayout(center)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.caption)
        cv.addWidget(self.image_view, 1)
        cv.addWidget(self.heatmap_note)

        # -- numbers and decision --
        self.bars = ProbabilityBars()
        self.info = QLabel("")
        self.info.setObjectName("reviewInfo")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.setFixedHeight(150)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.approve_btn = QPushButton("Approve  (A)")
        self.approve_btn.setObjectName("approveButton")
        self.approve_btn.clicked.connect(controller.approve)
        self.override_box = QGroupBox("Override: the right label")
        self.class_checks: list[QCheckBox] = []
        self.checks_grid = QGridLayout()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("reason (required), e.g. 'scratch, not crazing'")
        self.reason.returnPressed.connect(self.override)
        self.override_btn = QPushButton("Override  (O)")
        self.override_btn.setObjectName("overrideButton")
        self.override_btn.clicked.connect(self.override)
        ob = QVBoxLayout(self.override_box)
        ob.addLayout(self.checks_grid)
        ob.addWidget(self.reason)
        ob.addWidget(self.override_btn)
        self.feedback = QLabel("")
        self.feedback.setObjectName("reviewFeedback")
        self.feedback.setWordWrap(True)
        self.feedback.setFixedHeight(60)
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        keys = QLabel(
            "A approve · O override · H heatmap · ↑/↓ move · PgUp/PgDn page · Ctrl+B bands"
        )
        keys.setObjectName("keysHint")
        keys.setWordWrap(True)
        right = QWidget()
        right.setMinimumWidth(270)
        rv = QVBoxLayout(right)
        rv.addWidget(QLabel("<b>Probabilities</b> · tick = active threshold"))
        rv.addWidget(self.bars)
        rv.addWidget(self.info)
        rv.addWidget(self.approve_btn)
        rv.addWidget(self.override_box)
        rv.addWidget(self.feedback)
        rv.addStretch(1)
        rv.addWidget(keys)

        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.table, 1)
        lv.addLayout(pager)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(center)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setStretchFactor(2, 0)
        self.split.setSizes([720, 380, 300])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(bar)
        outer.addWidget(self.split, 1)
        self._install_shortcuts()
        self._bind()

    # -- controller -> widgets -----------------------------------------------------------------
    def _bind(self) -> None:
        c = self.ctl
        c.page_changed.connect(self._show_page)
        c.current_changed.connect(self._show_item)
        c.filters_changed.connect(self._show_filters)
        c.message.connect(self.feedback.setText)
        c.heatmap.connect(self._show_heatmap)
        c.heatmap_message.connect(self.heatmap_note.setText)

    def _show_filters(self, models: list[str], users: list[str]) -> None:
        for combo, first, values in (
            (self.model_combo, None, models),
            (self.user_combo, ANY_USER, users),
        ):
            keep = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            if first:
                combo.addItem(first)
            combo.addItems(values)
            i = combo.findText(keep)
            if i < 0 and combo is self.model_combo:
                i = combo.findText(self.ctl.filter.model_version or "")
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)

    def _show_page(self, items: list[QueueItem], offset: int, total: int) -> None:
        self.table_model.set_items(items, self.ctl.reasons)
        end = offset + len(items)
        self.page_label.setText(
            f"{offset + 1:,}–{end:,} of {total:,}" if items else f"0 of {total:,}"
        )
        self.prev_btn.setEnabled(offset > 0)
        self.next_btn.setEnabled(offset + PAGE_SIZE < total)

    def _show_item(self, item: QueueItem | None) -> None:
        self.image_view.clear_overlay()
        if item is None:
            self.caption.setText("The queue is empty: every doubtful decision is signed off")
            self.image_view.set_image(None)
            self.badge.show_for(None)
            self.bars.set_prediction(None)
            self.info.setText("")
            return
        row = self.ctl.items.index(item)
        if self.table.currentIndex().row() != row:
            self.table.selectRow(row)
        self.caption.setText(item.path)
        self._set_classes(tuple(item.probabilities))
        self.bars.set_prediction(pred := self.ctl.prediction(item))
        self.badge.show_for(pred)
        self.bars.set_labels(item.labels)
        why = "<br>".join(f"• {r}" for r in self.ctl.reasons(item))
        seen = f" (saw {item.seen_model})" if item.seen_model else ""
        self.info.setText(
            f"<b>Label:</b> {_labels(item.labels)} <i>({item.status.value})</i><br>"
            f"<b>By</b> {item.labelled_by} ({item.role or '?'}) · {_when(item.labelled_at)} UTC"
            f"{seen}<br><b>Model</b> {item.model_version}<br><b>Flagged:</b><br>{why}"
        )
        for chk in self.class_checks:
            chk.setChecked(bool(item.labels) and chk.text() in item.labels)
        self.reason.clear()
        self.heatmap_note.setText("H: heatmap of the top class")
        self.runner.submit(
            "review-image",
            jobs.load_full_image,
            item.path,
            on_result=self._on_image,
            on_error=lambda e, p=item.path: self._on_image_error(p, e),
        )

    def _set_classes(self, classes: tuple[str, ...]) -> None:
        if classes == self.classes:
            return
        self.classes = classes
        for chk in self.class_checks:
            chk.setParent(None)
        self.class_checks = []
        for i, c in enumerate(classes):
            chk = QCheckBox(c)
            chk.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            self.checks_grid.addWidget(chk, i // 2, i % 2)
            self.class_checks.append(chk)

    def _on_image(self, loaded: jobs.LoadedImage) -> None:
        if self.ctl.current is None or loaded.path != self.ctl.current.path:
            return
        self.image_view.set_image(loaded.image)
        self.caption.setText(f"{loaded.path}  ({loaded.width}×{loaded.height})")

    def _on_image_error(self, path: str, exc: InspectorError) -> None:
        if self.ctl.current is not None and path == self.ctl.current.path:
            self.image_view.set_image(None)
            self.caption.setText(f"{path}: {getattr(exc, 'reason', str(exc))}")

    def _show_heatmap(self, h: Heatmap | None) -> None:
        if h is None:
            self.image_view.clear_overlay()
        else:
            self.image_view.set_overlay(jobs.colorize(h.values))

    # -- widgets -> controller -----------------------------------------------------------------
    def _filter_edited(self) -> None:
        since = until = None
        if self.dates.isChecked():
            since, until = day_bounds(
                self.date_from.date().toPython(), self.date_to.date().toPython()
            )
        user = self.user_combo.currentText()
        self.ctl.set_filter(
            QueueFilter(
                self.model_combo.currentText() or None,
                None if user in ("", ANY_USER) else user,
                since,
                until,
            )
        )

    def override(self) -> None:
        labels = [c.text() for c in self.class_checks if c.isChecked()]
        if self.ctl.override(labels, self.reason.text()):
            self.reason.clear()
        elif not self.reason.text().strip():
            self.reason.setFocus()

    def toggle_heatmap(self) -> None:
        if self.image_view.overlay_visible():
            self.image_view.clear_overlay()
        else:
            self.ctl.request_heatmap()

    # -- the queue's bands -----------------------------------------------------------------------
    def bands_dialog(self) -> None:
        """Show the bands with what they span (around the plate on screen's thresholds) and
        apply the supervisor's change; the controller refuses other roles in one line."""
        item = self.ctl.current
        shown = list(item.thresholds.items()) if item is not None else []
        dlg = BandsDialog(*self.ctl.bands, shown, self)
        if dlg.exec():
            self.ctl.set_bands(*dlg.values())

    # -- the sign-off report ---------------------------------------------------------------------
    def report_dialog(self) -> None:
        """Ask for the period (default: this shift, the last 8 h) and where to save the PDF;
        the CSV is written beside it."""
        dlg = ReportDialog(self)
        if not dlg.exec():
            return
        since, until = dlg.bounds()
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save the sign-off report",
            f"signoff-{dt.datetime.now():%Y%m%d-%H%M}.pdf",
            "PDF (*.pdf)",
        )
        if path:
            self.write_report(since, until, path)

    def write_report(self, since: str | None, until: str | None, pdf_path: str) -> None:
        """Write ``pdf_path`` and the CSV beside it (in a worker)."""
        if self.ctl.sup is None:
            self.feedback.setText("No workspace open")
            return
        pdf = Path(pdf_path).with_suffix(".pdf")
        self.feedback.setText("Writing the sign-off report…")
        self.runner.submit(
            "signoff-report",
            report_job,
            self.ctl.sup,
            since,
            until,
            pdf.with_suffix(".csv"),
            pdf,
            on_progress=lambda p: self.feedback.setText(
                f"Writing the sign-off report… {p.done}/{p.total}"
            ),
            on_result=self._report_written,
            on_error=lambda e: self.feedback.setText(f"Report not written: {e}"),
        )

    def _report_written(self, files: ReportFiles) -> None:
        self.feedback.setText(
            f"Sign-off report: {files.rows} decisions → {files.pdf.name} and {files.csv.name}"
        )

    def _install_shortcuts(self) -> None:
        c = self.ctl
        for keys, slot in (
            (("A",), c.approve),
            (("O",), self.override),
            (("H",), self.toggle_heatmap),
            (("Down", "J"), lambda: c.move(1)),
            (("Up", "K"), lambda: c.move(-1)),
            (("PgDown",), c.next_page),
            (("PgUp",), c.previous_page),
            (("Ctrl+R",), self.report_dialog),
            (("Ctrl+B",), self.bands_dialog),
        ):
            for k in keys:
                sc = QShortcut(QKeySequence(k), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(slot)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.ctl.refresh()  # decisions made in other views meanwhile

    def shutdown(self) -> None:
        for ch in ("review-page", "review-image", "review-heatmap", "signoff-report"):
            self.runner.cancel(ch)
