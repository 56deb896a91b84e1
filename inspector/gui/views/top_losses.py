"""The annotators' top-loss view (F3): the queue as a table, the selected plate with its
probabilities, keyboard relabelling, the label history, re-scoring for another model version.

Keys (while this view is shown): 1-9 toggle a class, Enter = "label is right" (confirm, next),
0 / N = no defect (next), arrows move (past a page's end the next page loads), Page Up / Page
Down change page, Ctrl+Z undoes your own last decision here, G shows the page as a grid of thumbnails (or the table again). Ctrl+H (the window's View ›
Label history…) shows the selected plate's history.

A thin view over :class:`~inspector.controllers.top_losses.TopLossController`: the table model
reads the controller's current page, widgets forward actions and redraw from its signals. The
only work here is display work (decoding the selected plate in a worker, thumbnails).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.top_losses import Options, QueueFilter, TopLossController
from inspector.domain import NO_DEFECT, InspectorError, Progress
from inspector.gui import jobs
from inspector.gui.widgets.elided_label import ElidedLabel
from inspector.gui.widgets.gallery import ThumbnailCache
from inspector.gui.widgets.history import HistoryDialog
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.probability_bars import ProbabilityBars
from inspector.gui.workers import Runner

#: (keys, action name, help text) — also listed in the shortcuts help.
SHORTCUTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (tuple(str(i) for i in range(1, 10)), "toggle", "Top losses: toggle defect class 1-9"),
    (("Return", "Enter"), "confirm", "Top losses: the label is right (the image leaves)"),
    (("0", "N"), "no_defect", "Top losses: no defect, next image"),
    (("Down", "Right"), "next", "Top losses: next image"),
    (("Up", "Left"), "previous", "Top losses: previous image"),
    (("PgDown",), "next_page", "Top losses: next page"),
    (("PgUp",), "previous_page", "Top losses: previous page"),
    (("Ctrl+Z",), "undo", "Top losses: undo your own last decision"),
    (("G",), "grid", "Top losses: grid of thumbnails / table"),
)

DECIDED = QColor(67, 160, 71)
ROW_H = 52


def labels_text(labels: tuple[str, ...] | None) -> str:
    if labels is None:
        return "unlabelled"
    return ", ".join(labels) if labels else NO_DEFECT


class LossTableModel(QAbstractTableModel):
    """The controller's current page as table rows (no data of its own)."""

    HEADERS = ("#", "Image", "Predicted", "Label", "Loss", "Probabilities", "Labelled by", "Card")
    #: The last column is the grid's caption (hidden in the table).
    CARD = 7

    def __init__(self, ctl: TopLossController, thumbs: ThumbnailCache, parent=None) -> None:
        super().__init__(parent)
        self.ctl = ctl
        self.thumbs = thumbs
        self._text: dict[int, tuple[str, ...]] = {}  # row -> its cells' text (painting asks often)
        thumbs.ready.connect(self._thumb_ready)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ctl.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.ctl.rows):
            return None
        r, col = self.ctl.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells(index.row())[col]
        elif role == Qt.ItemDataRole.DecorationRole and col in (1, self.CARD):
            return self.thumbs.get(r.path)
        elif role == Qt.ItemDataRole.ForegroundRole and self.ctl.is_decided(r.path):
            return DECIDED
        elif role == Qt.ItemDataRole.ToolTipRole:
            if col == 5:
                return "\n".join(f"{c}: {p:.3f}" for c, p in r.probabilities.items())
            return r.path
        elif role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _cells(self, i: int) -> tuple[str, ...]:
        cells = self._text.get(i)
        if cells is None:
            r = self.ctl.rows[i]
            top = sorted(r.probabilities.items(), key=lambda kv: -kv[1])[:2]
            cells = self._text[i] = (
                str((self.ctl.page_number - 1) * self.ctl.page_size + i + 1),
                Path(r.path).name + ("  ✓" if self.ctl.is_decided(r.path) else ""),
                labels_text(r.predicted),
                labels_text(r.labels),
                f"{r.loss:.3f}",
                "  ".join(f"{c} {p:.2f}" for c, p in top),
                f"{r.user} ({r.role})" if r.role else r.user,
                f"{Path(r.path).name}{'  ✓' if self.ctl.is_decided(r.path) else ''}"
                f"  ·  loss {r.loss:.2f}\nmodel: {labels_text(r.predicted)}"
                f"\nlabel: {labels_text(r.labels)}",
            )
        return cells

    def reset(self) -> None:
        self.beginResetModel()
        self._text.clear()
        self.endResetModel()

    def row_changed(self, i: int) -> None:
        self._text.pop(i, None)
        self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.HEADERS) - 1))

    def _thumb_ready(self, path: str) -> None:
        for i, r in enumerate(self.ctl.rows):
            if r.path == path:
                idx = self.index(i, 1)
                self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])


class TopLossView(QWidget):
    """Filters, the queue's table and the selected plate, bound to a TopLossController."""

    def __init__(self, controller: TopLossController, runner: Runner, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("topLossView")
        self.ctl = controller
        self.runner = runner  # display jobs only (decoding the selected plate)

        self.thumbs = ThumbnailCache(self, capacity=600)
        self.model = LossTableModel(controller, self.thumbs, self)
        self.table = QTableView()
        self.table.setObjectName("lossTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the view's keys act, not the table's
        self.table.setAlternatingRowColors(True)
        self.table.setIconSize(QSize(ROW_H - 6, ROW_H - 6))
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_H)
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for col, w in enumerate((40, 196, 112, 112, 58, 230, 120)):
            self.table.setColumnWidth(col, w)
        self.table.clicked.connect(lambda idx: self.ctl.select(idx.row()))
        self.table.setColumnHidden(LossTableModel.CARD, True)
        # the same page as a grid of thumbnails with captions (G switches)
        self.grid = QListView()
        self.grid.setObjectName("lossGrid")
        self.grid.setModel(self.model)
        self.grid.setModelColumn(LossTableModel.CARD)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(120, 120))
        self.grid.setGridSize(QSize(212, 196))
        self.grid.setWordWrap(True)
        self.grid.setSpacing(4)
        self.grid.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.clicked.connect(lambda idx: self.ctl.select(idx.row()))
        self.lists = QStackedWidget()
        self.lists.addWidget(self.table)
        self.lists.addWidget(self.grid)

        # -- filters and paging --
        self.model_combo = QComboBox()
        self.pred_combo = QComboBox()
        self.label_combo = QComboBox()
        self.user_combo = QComboBox()
        for combo in (self.model_combo, self.pred_combo, self.label_combo, self.user_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            # never let a long name widen the window (the combo elides instead)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(7)
            combo.currentIndexChanged.connect(self._filter_edited)
        self.model_combo.setMinimumContentsLength(13)
        self.checked_box = QCheckBox("Show checked")
        self.checked_box.setToolTip("Also list images already decided with this model in view")
        self.checked_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.checked_box.toggled.connect(self._filter_edited)
        self.range_label = QLabel("")
        self.range_label.setObjectName("countLabel")
        self.prev_btn = QPushButton("◀ Page")
        self.next_btn = QPushButton("Page ▶")
        self.prev_btn.clicked.connect(lambda: self.ctl.previous_page())
        self.next_btn.clicked.connect(lambda: self.ctl.next_page())
        self.grid_btn = QPushButton("Grid")
        self.grid_btn.setCheckable(True)
        self.grid_btn.setToolTip("G: the page as a grid of thumbnails, or as a table")
        self.grid_btn.toggled.connect(self.show_grid)
        self.rescore_btn = QPushButton("Re-score")
        self.rescore_btn.clicked.connect(lambda: self.ctl.rescore())
        self.cancel_btn = QPushButton("Cancel")
        self.cancel_btn.clicked.connect(self.ctl.cancel_rescore)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        for w in (self.prev_btn, self.next_btn, self.rescore_btn, self.cancel_btn, self.grid_btn):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.progress.setVisible(False)
        self.cancel_btn.setVisible(False)

        top = QGridLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(QLabel("Model"), 0, 0)
        top.addWidget(self.model_combo, 0, 1)
        top.addWidget(QLabel("Predicted"), 0, 2)
        top.addWidget(self.pred_combo, 0, 3)
        top.addWidget(QLabel("Labelled"), 0, 4)
        top.addWidget(self.label_combo, 0, 5)
        top.addWidget(QLabel("By"), 0, 6)
        top.addWidget(self.user_combo, 0, 7)
        for c in (1, 3, 5, 7):
            top.setColumnStretch(c, 1)
        top.setColumnStretch(1, 2)
        pager = QHBoxLayout()
        pager.setContentsMargins(4, 0, 4, 0)
        pager.addWidget(self.range_label, 1)
        pager.addWidget(self.checked_box)
        pager.addWidget(self.grid_btn)
        pager.addWidget(self.progress)
        pager.addWidget(self.cancel_btn)
        pager.addWidget(self.rescore_btn)
        pager.addWidget(self.prev_btn)
        pager.addWidget(self.next_btn)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(top)
        lv.addLayout(pager)
        lv.addWidget(self.lists, 1)

        # -- the selected plate --
        self.caption = ElidedLabel("")
        self.caption.setObjectName("imageCaption")
        self.image_view = ImageView()
        self.image_view.setMinimumHeight(180)
        self.bars = ProbabilityBars()
        self.label_text = QLabel("")
        self.label_text.setObjectName("labelText")
        self.label_text.setWordWrap(True)
        self.who_text = QLabel("")
        self.who_text.setObjectName("keysHint")
        self.who_text.setWordWrap(True)
        self.confirm_btn = QPushButton("Label is right")
        self.confirm_btn.setToolTip("Enter: the label is right; the plate leaves the queue")
        self.confirm_btn.clicked.connect(self.ctl.confirm)
        self.history_btn = QPushButton("History…")
        self.history_btn.setToolTip("Ctrl+H: who labelled this plate, when, and what they saw")
        self.history_btn.clicked.connect(self.show_history)
        for b in (self.confirm_btn, self.history_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm_btn)
        buttons.addWidget(self.history_btn)
        hint = QLabel(
            "1-9 toggle · Enter label is right · 0/N no defect · ↑/↓ move · PgUp/PgDn page ·"
            " Ctrl+Z undo (yours) · Ctrl+H history · G grid"
        )
        hint.setObjectName("keysHint")
        hint.setWordWrap(True)
        right = QWidget()
        right.setMinimumWidth(250)
        rv = QVBoxLayout(right)
        rv.setContentsMargins(4, 4, 4, 4)
        rv.addWidget(self.caption)
        rv.addWidget(self.image_view, 1)
        rv.addWidget(self.bars)
        rv.addWidget(self.label_text)
        rv.addWidget(self.who_text)
        rv.addLayout(buttons)
        rv.addWidget(hint)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([860, 480])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.split)
        self._install_shortcuts()
        self._bind()

    # -- controller -> widgets -----------------------------------------------------------------
    def _bind(self) -> None:
        c = self.ctl
        c.page_changed.connect(self._on_page)
        c.row_changed.connect(self._on_row_changed)
        c.current_changed.connect(self._on_current)
        c.count_changed.connect(lambda _total: self._show_range())
        c.options_changed.connect(self._on_options)
        c.rescore_progress.connect(self._on_rescore_progress)

    def _on_page(self) -> None:
        self.model.reset()
        self._show_range()

    def _show_range(self) -> None:
        self.range_label.setText(f"Page {self.ctl.page_number} · {self.ctl.range_text()}")
        self.prev_btn.setEnabled(self.ctl.page_number > 1)
        self.next_btn.setEnabled(self.ctl.has_more)

    def _on_row_changed(self, i: int) -> None:
        self.model.row_changed(i)
        if i == self.ctl.current:
            self._show_row_info()

    def _on_current(self, i: int | None) -> None:
        sel = self.table.selectionModel()
        if i is None:
            sel.clearSelection()
            self.caption.setText("")
            self.image_view.set_image(None)
            self.bars.set_prediction(None)
            self.label_text.setText("Nothing to check in this queue")
            self.who_text.setText("")
            return
        idx = self.model.index(i, 1)
        self.table.selectRow(i)
        self.table.scrollTo(idx)
        card = self.model.index(i, LossTableModel.CARD)
        self.grid.selectionModel().setCurrentIndex(
            card, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        self.grid.scrollTo(card)
        row = self.ctl.rows[i]
        self.caption.setText(row.path)
        self._show_row_info()
        self.runner.submit(
            "loss_image",
            jobs.load_full_image,
            row.path,
            on_result=self._on_image,
            on_error=lambda e, p=row.path: self._on_image_error(p, e),
        )

    def _show_row_info(self) -> None:
        row = self.ctl.current_row()
        if row is None:
            return
        self.bars.set_prediction(self.ctl.prediction(row))  # (re)lays out only for new classes
        self.bars.set_labels(row.labels)
        mark = (
            "  <span style='color:#43a047'>✓ decided</span>"
            if self.ctl.is_decided(row.path)
            else ""
        )
        self.label_text.setText(
            f"<b>Label:</b> {labels_text(row.labels)} · <b>loss</b> {row.loss:.3f}{mark}"
        )
        when = row.decided_at[:16].replace("T", " ")
        seen = f", with {row.seen_model} in view" if row.seen_model else ""
        self.who_text.setText(f"Labelled by {row.user} ({row.role}) {when}{seen}")

    def _on_image(self, loaded: jobs.LoadedImage) -> None:
        row = self.ctl.current_row()
        if row is None or loaded.path != row.path:
            return
        self.image_view.set_image(loaded.image)
        self.image_view.set_boxes(loaded.boxes)

    def _on_image_error(self, path: str, exc: InspectorError) -> None:
        row = self.ctl.current_row()
        if row is not None and row.path == path:
            self.image_view.set_image(None)
            self.caption.setText(f"{path}: {getattr(exc, 'reason', exc)}")

    def _on_options(self, opts: Options) -> None:
        names = list(opts.models)
        current = self.ctl.model_name
        classes = self.ctl.classes
        self._fill(
            self.model_combo,
            [(f"{n}{' (active)' if n == opts.active else ''}", n) for n in names],
            current,
        )
        any_class = [(c, c) for c in classes] + [(NO_DEFECT, NO_DEFECT)]
        self._fill(self.pred_combo, [("any prediction", ""), *any_class], self.ctl.filter.predicted)
        self._fill(self.label_combo, [("any label", ""), *any_class], self.ctl.filter.label)
        self._fill(
            self.user_combo, [("anyone", ""), *((u, u) for u in opts.users)], self.ctl.filter.user
        )
        missing = opts.unscored.get(current, 0)
        self.rescore_btn.setText(f"Score {missing:,} missing" if missing else "Re-score")
        self.rescore_btn.setEnabled(bool(missing) and not self.ctl.rescoring)
        self.rescore_btn.setToolTip(
            f"{missing:,} labelled images have no prediction of {current} yet: score them in the"
            " background"
            if missing
            else f"Every labelled image has a prediction of {current}"
        )
        self._show_row_info()

    @staticmethod
    def _fill(combo: QComboBox, items: list[tuple[str, str]], value: str) -> None:
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        i = combo.findData(value)
        combo.setCurrentIndex(max(0, i))
        combo.blockSignals(False)

    def _on_rescore_progress(self, p: Progress | None) -> None:
        running = p is not None
        self.progress.setVisible(running)
        self.cancel_btn.setVisible(running)
        self.rescore_btn.setEnabled(not running)
        if p is not None:
            self.progress.setRange(0, max(p.total, 0))
            self.progress.setValue(p.done)
            self.progress.setFormat(f"{p.done:,} / {p.total:,}" if p.total else "starting…")

    # -- widgets -> controller -----------------------------------------------------------------
    def _filter_edited(self) -> None:
        def val(combo: QComboBox) -> str:
            return str(combo.currentData() or "")

        model = val(self.model_combo)
        self.ctl.set_filter(
            QueueFilter(
                model_version="" if model == self.ctl.options.active else model,
                predicted=val(self.pred_combo),
                label=val(self.label_combo),
                user=val(self.user_combo),
                include_checked=self.checked_box.isChecked(),
            )
        )
        self._on_options(self.ctl.options)  # the classes follow the model version

    def show_grid(self, on: bool) -> None:
        """The page as a grid of thumbnails (on) or as the table."""
        self.lists.setCurrentWidget(self.grid if on else self.table)
        if self.grid_btn.isChecked() != on:
            self.grid_btn.setChecked(on)

    def current_path(self) -> str | None:
        """The selected plate (the window's View › Label history… shows its history)."""
        row = self.ctl.current_row()
        return None if row is None else row.path

    def show_history(self) -> None:
        path = self.current_path()
        if path is not None:
            HistoryDialog(self.ctl.service, path, self).exec()

    def _install_shortcuts(self) -> None:
        c = self.ctl
        actions = {
            "confirm": c.confirm,
            "no_defect": c.no_defect,
            "next": lambda: c.move(1),
            "previous": lambda: c.move(-1),
            "next_page": c.next_page,
            "previous_page": c.previous_page,
            "undo": c.undo,
            "grid": lambda: self.show_grid(self.lists.currentWidget() is self.table),
        }
        self.shortcuts: list[QShortcut] = []
        for keys, name, _help in SHORTCUTS:
            for k in keys:
                sc = QShortcut(QKeySequence(k), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                if name == "toggle":
                    sc.activated.connect(partial(c.toggle_class, int(k) - 1))
                else:
                    sc.activated.connect(actions[name])
                self.shortcuts.append(sc)

    def shutdown(self) -> None:
        self.ctl.shutdown()
        self.thumbs.shutdown()
