"""The metrics view (F5): PR, ROC and reliability curves per class (pyqtgraph; the reliability
diagram's legend gives each class's ECE), AP, per-class threshold sliders with live precision / recall / misses / false alarms, predicted-vs-labelled pairs, and
saving the sliders as a threshold revision (supervisors only).

A thin view over :class:`~inspector.controllers.metrics.MetricsController`. Plot items are made
once per class list and updated with ``setData``; a slider move redraws one point per plot and
one row of numbers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.metrics import (
    IMAGE_SET_NAMES,
    Evaluation,
    MetricsController,
    OperatingPoint,
)
from inspector.controllers.review_queue import day_bounds
from inspector.controllers.supervision import ThresholdRevision
from inspector.domain import Progress

#: One colour per class (colour-blind-safe Okabe-Ito, then greys).
COLORS = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")
SLIDER_STEPS = 1000


def _fmt(v: float, digits: int = 3) -> str:
    return "—" if not np.isfinite(v) else f"{v:.{digits}f}"


#: Curves with more vertices than this are thinned for drawing (never for the numbers).
DRAW_MAX_POINTS = 2000


def drawable(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The curve with the vertices a plot cannot show dropped: points closer than 1/4000 of the
    axis to the previous kept one, and middles of horizontal or vertical runs."""
    if len(x) <= DRAW_MAX_POINTS:
        return x, y
    qx, qy = np.round(x * 4000), np.round(y * 4000)
    keep = np.r_[True, (np.diff(qx) != 0) | (np.diff(qy) != 0)]
    qx, qy, x, y = qx[keep], qy[keep], x[keep], y[keep]
    if len(x) > 2:
        mid_h = (qy[1:-1] == qy[:-2]) & (qy[1:-1] == qy[2:])
        mid_v = (qx[1:-1] == qx[:-2]) & (qx[1:-1] == qx[2:])
        keep = np.r_[True, ~(mid_h | mid_v), True]
        x, y = x[keep], y[keep]
    return x, y


class _ClassRow:
    """The widgets of one class's row (made once per class list)."""

    def __init__(self, grid: QGridLayout, row: int, name: str, color: str, on_move) -> None:
        self.swatch = QLabel("■")
        self.swatch.setStyleSheet(f"color: {color}; font-size: 14pt;")
        self.name = QLabel(name)
        self.ap = QLabel("")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(1, SLIDER_STEPS - 1)
        self.slider.setMinimumWidth(120)
        self.slider.setObjectName(f"threshold_{name}")
        self.slider.valueChanged.connect(lambda v: on_move(v / SLIDER_STEPS))
        self.value = QLabel("")
        self.value.setFixedWidth(48)  # a bold value must not re-lay-out the grid
        self.numbers = QLabel("")
        self.numbers.setObjectName("valuesText")
        self.counts = QLabel("")
        self.counts.setObjectName("valuesText")
        for col, w in enumerate(
            (self.swatch, self.name, self.ap, self.slider, self.value, self.numbers, self.counts)
        ):
            grid.addWidget(w, row, col)

    def remove(self) -> None:
        for w in (self.swatch, self.name, self.ap, self.slider, self.value, self.numbers):
            w.setParent(None)
        self.counts.setParent(None)


class MetricsView(QWidget):
    def __init__(self, controller: MetricsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsView")
        self.ctl = controller
        self.classes: tuple[str, ...] = ()
        self.rows: list[_ClassRow] = []
        self.pr_curves: list[pg.PlotDataItem] = []
        self.roc_curves: list[pg.PlotDataItem] = []
        self.pr_points: list[pg.ScatterPlotItem] = []
        self.roc_points: list[pg.ScatterPlotItem] = []
        self.rel_curves: list[pg.PlotDataItem] = []
        self._shown_pairs: np.ndarray | None = None  # what the pairs table shows (redraw cache)

        # -- what to measure --
        self.model_combo = QComboBox()
        self.set_combo = QComboBox()
        for key, words in IMAGE_SET_NAMES.items():
            self.set_combo.addItem(words, key)
        self.set_combo.setCurrentIndex(list(IMAGE_SET_NAMES).index("all"))
        self.dates = QCheckBox("Labelled from")
        today = QDate.currentDate()
        self.date_from = QDateEdit(today.addDays(-30))
        self.date_to = QDateEdit(today)
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
        self.dates.toggled.connect(self.date_from.setEnabled)
        self.dates.toggled.connect(self.date_to.setEnabled)
        for combo in (self.model_combo, self.set_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.measure_btn = QPushButton("Measure")
        self.measure_btn.clicked.connect(self.measure)
        self.summary = QLabel("")
        self.summary.setObjectName("metricsSummary")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setVisible(False)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Model"))
        bar.addWidget(self.model_combo, 1)
        bar.addWidget(QLabel("Images"))
        bar.addWidget(self.set_combo, 1)
        bar.addWidget(self.dates)
        bar.addWidget(self.date_from)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.date_to)
        bar.addWidget(self.measure_btn)
        bar.addWidget(self.progress)

        # -- curves --
        pg.setConfigOptions(antialias=True)
        self.pr_plot = pg.PlotWidget(background="#1e2023")
        self.roc_plot = pg.PlotWidget(background="#1e2023")
        self.rel_plot = pg.PlotWidget(background="#1e2023")
        self.rel_plot.setObjectName("reliabilityPlot")
        for plot, title, xl, yl in (
            (self.pr_plot, "Precision–recall", "recall", "precision"),
            (self.roc_plot, "ROC", "false positive rate", "true positive rate"),
            (
                self.rel_plot,
                "Reliability (diagonal = calibrated; dot size = plates)",
                "predicted probability (bin mean)",
                "observed frequency",
            ),
        ):
            plot.setTitle(title, color="#e4e6e8")
            plot.setLabel("bottom", xl)
            plot.setLabel("left", yl)
            plot.setXRange(0, 1, padding=0.02)
            plot.setYRange(0, 1.0, padding=0.02)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            plot.getViewBox().disableAutoRange()  # a moving point must not rescale the axes
            plot.setMinimumHeight(130)  # three plots fit a 700 px screen
        diagonal = pg.mkPen("#555", style=Qt.PenStyle.DashLine)
        self.roc_plot.plot([0, 1], [0, 1], pen=diagonal)
        self.rel_plot.plot([0, 1], [0, 1], pen=diagonal)
        self.legend = self.pr_plot.addLegend(offset=(-8, -8), labelTextColor="#e4e6e8")
        # names with each class's ECE, rewritten per evaluation (top left: the curves' empty side)
        self.rel_legend = self.rel_plot.addLegend(offset=(8, 8), labelTextColor="#e4e6e8")
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.pr_plot)
        plots.addWidget(self.roc_plot)
        plots.addWidget(self.rel_plot)

        # -- per class: AP, slider, numbers --
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(8)
        for col, text in enumerate(
            (
                "",
                "class",
                "AP",
                "threshold",
                "",
                "precision · recall · misses · false alarms /1000",
                "TP FP FN TN",
            )
        ):
            h = QLabel(f"<b>{text}</b>")
            self.grid.addWidget(h, 0, col)
        self.grid.setColumnStretch(3, 1)
        classes_box = QGroupBox("Per class (drag a threshold: its point moves on both curves)")
        cb = QVBoxLayout(classes_box)
        cb.addLayout(self.grid)

        self.pairs = QTableWidget()
        self.pairs.setObjectName("pairsTable")
        self.pairs.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.pairs.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.pairs.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        pairs_box = QGroupBox("Predicted (rows) vs labelled (columns), plates")
        pb = QVBoxLayout(pairs_box)
        pb.addWidget(self.pairs)

        # -- revisions and saving --
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept with the revision)")
        self.reset_btn = QPushButton("Reset")
        self.reset_btn.setToolTip("Back to the active revision's thresholds")
        self.reset_btn.clicked.connect(controller.reset)
        self.save_btn = QPushButton("Save as new revision (supervisor)")
        self.save_btn.setObjectName("saveThresholds")
        self.save_btn.clicked.connect(self.save)
        self.revisions = QLabel("")
        self.revisions.setObjectName("revisionsText")
        self.revisions.setWordWrap(True)
        self.revisions.setTextFormat(Qt.TextFormat.RichText)
        self.feedback = QLabel("")
        self.feedback.setObjectName("metricsFeedback")
        self.feedback.setWordWrap(True)
        save_box = QGroupBox("Threshold revisions")
        sb = QGridLayout(save_box)
        sb.addWidget(self.reason, 0, 0)
        sb.addWidget(self.reset_btn, 0, 1)
        sb.addWidget(self.save_btn, 0, 2)
        sb.addWidget(self.feedback, 1, 0, 1, 3)
        sb.addWidget(self.revisions, 2, 0, 1, 3)
        sb.setColumnStretch(0, 1)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addWidget(classes_box)
        rv.addWidget(pairs_box, 1)
        rv.addWidget(save_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(right)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(plots)
        split.addWidget(scroll)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([460, 700])
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(bar)
        outer.addWidget(self.summary)
        outer.addWidget(split, 1)
        self._bind()

    # -- controller -> widgets -----------------------------------------------------------------
    def _bind(self) -> None:
        c = self.ctl
        c.models_changed.connect(self._show_models)
        c.evaluated.connect(self._show_evaluation)
        c.point_changed.connect(self._show_point)
        c.pairs_changed.connect(self._show_pairs)
        c.revisions_changed.connect(self._show_revisions)
        c.busy.connect(self._show_busy)
        c.message.connect(self.feedback.setText)

    def _show_models(self, names: list[str], current: str) -> None:
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItems(names)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findText(current)))
        self.model_combo.blockSignals(False)

    def _show_busy(self, p: Progress | None) -> None:
        self.progress.setVisible(p is not None)
        if p is not None:
            self.progress.setRange(0, max(p.total, 1))
            self.progress.setValue(p.done)
            self.progress.setFormat(p.message)

    def _make_class_items(self, classes: tuple[str, ...]) -> None:
        """Plot items and rows once per class list; later evaluations only setData."""
        if classes == self.classes:
            return
        self.classes = classes
        for r in self.rows:
            r.remove()
        for item in (*self.pr_curves, *self.pr_points):
            self.pr_plot.removeItem(item)
        for item in (*self.roc_curves, *self.roc_points):
            self.roc_plot.removeItem(item)
        for item in self.rel_curves:
            self.rel_plot.removeItem(item)
        self.rel_curves = []
        self.legend.clear()
        self.rel_legend.clear()
        self.rows, self.pr_curves, self.roc_curves, self.pr_points, self.roc_points = (
            [],
            [],
            [],
            [],
            [],
        )
        for k, name in enumerate(classes):
            color = COLORS[k % len(COLORS)]
            pen = pg.mkPen(color, width=2)
            # 10,000 plates make curves of up to 10,000 vertices: draw at most a few per pixel
            fast = {"autoDownsample": True, "downsampleMethod": "peak", "skipFiniteCheck": True}
            self.pr_curves.append(self.pr_plot.plot([], [], pen=pen, name=name, **fast))
            self.roc_curves.append(self.roc_plot.plot([], [], pen=pen, **fast))
            # at most RELIABILITY_BINS points: a marker per bin shows where the plates are
            self.rel_curves.append(
                self.rel_plot.plot(
                    [], [], pen=pen, symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None
                )
            )
            self.rel_legend.addItem(self.rel_curves[-1], name)  # ECE added per evaluation
            for plot, points in ((self.pr_plot, self.pr_points), (self.roc_plot, self.roc_points)):
                sp = pg.ScatterPlotItem(
                    size=11, pen=pg.mkPen("w", width=1.5), brush=pg.mkBrush(color)
                )
                sp.setZValue(10)
                plot.addItem(sp)
                points.append(sp)
            self.rows.append(
                _ClassRow(self.grid, k + 1, name, color, lambda t, k=k: self._slider_moved(k, t))
            )

    def _show_evaluation(self, ev: Evaluation) -> None:
        self._make_class_items(ev.classes)
        for k, c in enumerate(ev.curves):
            self.pr_curves[k].setData(*drawable(c.recall, c.precision))
            self.roc_curves[k].setData(*drawable(c.fpr, c.tpr))
            # marker area grows with the bin's plates: a bin of 2 plates zigzags, and looks it
            sizes = 4 + 3 * np.log10(np.maximum(c.rel_count, 1))
            self.rel_curves[k].setData(c.rel_confidence, c.rel_frequency, symbolSize=sizes)
            # the entry's text only: rebuilding the legend costs ~9 ms per evaluation
            self.rel_legend.items[k][1].setText(f"{c.name} · ECE {_fmt(c.ece)}")
            self.rows[k].ap.setText(_fmt(c.ap, 4))
            self.rows[k].name.setToolTip(
                f"{c.positives} labelled plates, ROC AUC {_fmt(c.roc_auc)}, "
                f"ECE {_fmt(c.ece)} (reliability diagram, {len(c.rel_count)} filled bins)"
            )
        span = ""
        if ev.since or ev.until:
            span = f" · labelled {(ev.since or '')[:10]} – {(ev.until or '')[:10]}"
        self.summary.setText(
            f"<b>{ev.model_version}</b> on {IMAGE_SET_NAMES[ev.image_set]}{span}: "
            f"<b>{ev.n:,}</b> scored plates · macro AP <b>{_fmt(ev.macro_ap, 4)}</b> · "
            + " · ".join(f"{c.name} {c.positives}" for c in ev.curves)
        )

    def _show_point(self, k: int, pt: OperatingPoint) -> None:
        row = self.rows[k]
        row.slider.blockSignals(True)
        row.slider.setValue(round(pt.threshold * SLIDER_STEPS))
        row.slider.blockSignals(False)

        row.numbers.setText(
            f"P {pt.precision:.3f} · R {pt.recall:.3f} · "
            f"{pt.misses_per_1000:5.1f} missed · {pt.false_alarms_per_1000:5.1f} FA"
        )
        row.counts.setText(f"{pt.tp} {pt.fp} {pt.fn} {pt.tn}")
        self.pr_points[k].setData([pt.recall], [pt.precision])
        self.roc_points[k].setData([pt.fpr], [pt.recall])
        active = self.ctl.state.active
        moved = active is not None and abs(active.thresholds[k] - pt.threshold) > 1e-9
        # moved from the active revision: highlighted (rich text; a style sheet would re-polish)
        text = f"{pt.threshold:.3f}"
        row.value.setText(f"<b style='color:#ffca28'>{text}</b>" if moved else text)

    def _show_pairs(self, m: np.ndarray, names: list[str]) -> None:
        n = len(names)
        if self.pairs.rowCount() != n:
            self.pairs.setRowCount(n)
            self.pairs.setColumnCount(n)
            self.pairs.setHorizontalHeaderLabels(names)
            self.pairs.setVerticalHeaderLabels(names)
            for i in range(n):
                for j in range(n):
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.pairs.setItem(i, j, item)
            self._shown_pairs = None
        top = max(int(m.max()), 1)
        old = self._shown_pairs
        same_scale = old is not None and max(int(old.max()), 1) == top
        self._shown_pairs = m.copy()
        for i in range(n):
            for j in range(n):
                if same_scale and old[i, j] == m[i, j]:
                    continue  # a slider move changes one class's row and column only
                item = self.pairs.item(i, j)
                v = int(m[i, j])
                item.setText(str(v) if v else "·")
                shade = int(40 + 120 * v / top)
                color = QColor(40, shade, 60) if i == j else QColor(shade, 40, 40)
                item.setBackground(color if v else QColor(38, 40, 43))

    def _show_revisions(self, revs: list[ThresholdRevision]) -> None:
        lines = []
        for r in reversed(revs[-4:]):
            when = r.created_at[:16].replace("T", " ")
            if r.previous is None:
                what = "the model card: " + ", ".join(
                    f"{c} {t:.2f}" for c, t in zip(r.classes, r.thresholds, strict=True)
                )
            else:
                what = ", ".join(f"{c} {o:.2f} → {n:.2f}" for c, o, n in r.changes()) or "—"
            who = f"{r.user} ({r.role})" if r.role else r.user
            reason = f" · <i>{r.reason}</i>" if r.reason and r.previous is not None else ""
            active = " <b>(active)</b>" if r is revs[-1] else ""
            lines.append(f"<b>rev {r.revision}</b>{active} · {when} · {who} · {what}{reason}")
        self.revisions.setText("<br>".join(lines))

    # -- widgets -> controller -----------------------------------------------------------------
    def _slider_moved(self, k: int, t: float) -> None:
        if self.ctl.state.evaluation is not None:
            self.ctl.set_threshold(k, t)

    def measure(self) -> None:
        since = until = None
        if self.dates.isChecked():
            since, until = day_bounds(
                self.date_from.date().toPython(), self.date_to.date().toPython()
            )
        self.ctl.evaluate(
            self.model_combo.currentText() or None, self.set_combo.currentData(), since, until
        )

    def save(self) -> None:
        if self.ctl.save(self.reason.text().strip()):
            self.reason.clear()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.ctl.state.evaluation is None and self.ctl.sup is not None:
            self.measure()
