"""The inspectors' view: gallery, image with SHAP overlay, probabilities, keyboard labelling.

Keys (window-wide while this view is shown): 1-9 toggle a class, Enter accepts the model's
labels, 0 or N = no defect, arrows / Space / Backspace move, Ctrl+Z / Ctrl+Shift+Z undo / redo,
H toggles the heatmap, F fit, 1:1 with Ctrl+1, U shows only the unfamiliar plates.

A plate the model has not seen the like of (:attr:`Prediction.is_unfamiliar`) carries an
"unfamiliar plate" badge on the image, a dashed frame in the gallery, and says so in its alarm.

A thin view over :class:`~inspector.controllers.inspect.InspectController`: widgets forward every
user action to the controller and redraw from its signals; the only work done here is display
work (decoding the big image into a QImage, colouring a heatmap).
"""

from __future__ import annotations

import logging
import time
from functools import partial

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from inspector.controllers.entries import Entry, GalleryFilter
from inspector.controllers.heatmaps import Heatmap
from inspector.controllers.inspect import InspectController
from inspector.domain import NO_DEFECT, InspectorError, LabelStatus, Progress
from inspector.gui import jobs
from inspector.gui.qtcompat import emit
from inspector.gui.views.welcome import WelcomePage
from inspector.gui.watch import FolderWatcher
from inspector.gui.widgets.elided_label import ElidedLabel
from inspector.gui.widgets.explain_panel import ExplainPanel
from inspector.gui.widgets.gallery import (
    GalleryDelegate,
    GalleryFilterProxy,
    GalleryModel,
    GalleryView,
    ThumbnailCache,
)
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.probability_bars import ProbabilityBars
from inspector.gui.widgets.unfamiliar_badge import UnfamiliarBadge
from inspector.gui.workers import Runner

log = logging.getLogger(__name__)

#: (keys, action name, help text) — the shortcuts help dialog is generated from this table.
SHORTCUTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (tuple(str(i) for i in range(1, 10)), "toggle", "Toggle defect class 1-9"),
    (("Return", "Enter"), "accept", "Accept the model's labels and go to the next image"),
    (("0", "N"), "no_defect", "No defect, next image"),
    (("Right", "Down", "Space"), "next", "Next image"),
    (("Left", "Up", "Backspace"), "previous", "Previous image"),
    (("Ctrl+Z",), "undo", "Undo the last label decision"),
    (("Ctrl+Shift+Z", "Ctrl+Y"), "redo", "Redo"),
    (("H",), "heatmap", "Show / hide the SHAP heatmap"),
    (("P",), "positive", "Heatmap: evidence for the class only / for and against"),
    (("F",), "fit", "Fit the image to the view"),
    (("Ctrl+1",), "actual", "Actual size (1:1)"),
    (
        ("Ctrl+K",),
        "acknowledge",
        "Acknowledge the alarms (defects, unfamiliar plates) of the watched folder",
    ),
    (("U",), "unfamiliar", "Show only the unfamiliar plates / every plate"),
)


class InspectView(QWidget):
    """Gallery, image with heatmap overlay, probabilities and keys, bound to a controller."""

    welcome_action = Signal(str)  # "folder" | "watch" | "import" | "workspace"

    def __init__(
        self, controller: InspectController, runner: Runner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inspectView")
        self.ctl = controller
        self.runner = runner  # display jobs only (decoding the big image)

        self.thumbs = ThumbnailCache(self)
        self.model = GalleryModel(controller, self.thumbs, self)
        self.proxy = GalleryFilterProxy(controller, self)
        self.proxy.setSourceModel(self.model)
        self.gallery = GalleryView()
        self.gallery.setModel(self.proxy)
        self.gallery.setItemDelegate(GalleryDelegate(self.thumbs, self.gallery))
        self.gallery.selectionModel().currentChanged.connect(self._on_gallery_current)
        self.watcher = FolderWatcher(runner, self)
        self.watcher.new_files.connect(controller.add_watched)
        self.watcher.problem.connect(controller.message.emit)

        self.filter_pred = QComboBox()
        self.filter_label = QComboBox()
        self.filter_status = QComboBox()
        self.filter_status.addItems(["any status", *(s.value for s in LabelStatus)])
        for combo in (self.filter_pred, self.filter_label, self.filter_status):
            combo.currentIndexChanged.connect(self._filter_edited)
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for combo in (self.filter_pred, self.filter_label, self.filter_status):
            # never let a long class name widen the window (the combo elides instead)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
        self.count_label = QLabel("")
        self.count_label.setObjectName("countLabel")
        self.lists = QTabBar()
        self.lists.setObjectName("listTabs")
        self.lists.addTab("Opened")
        self.lists.addTab("Watched")
        self.lists.setToolTip("Images you opened, and those that arrived in the watched folder")
        self.lists.currentChanged.connect(
            lambda i: controller.show_list("watched" if i == 1 else "opened")
        )
        filters = QGridLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(QLabel("Predicted"), 0, 0)
        filters.addWidget(self.filter_pred, 0, 1)
        filters.addWidget(QLabel("Label"), 0, 2)
        filters.addWidget(self.filter_label, 0, 3)
        filters.addWidget(QLabel("Status"), 1, 0)
        filters.addWidget(self.filter_status, 1, 1)
        filters.addWidget(self.count_label, 1, 2, 1, 2)
        self.filter_unfamiliar = QCheckBox("Unfamiliar plates only (U)")
        self.filter_unfamiliar.setToolTip(
            "Plates unlike those the model was trained on: their labels deserve doubt"
        )
        self.filter_unfamiliar.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.filter_unfamiliar.toggled.connect(self._filter_edited)
        filters.addWidget(self.filter_unfamiliar, 2, 0, 1, 4)
        filters.setColumnStretch(1, 1)
        filters.setColumnStretch(3, 1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.lists)
        lv.addLayout(filters)
        lv.addWidget(self.gallery)

        self.image_view = ImageView()
        # on the image itself, where the inspector is looking: not a status-bar line
        self.badge = UnfamiliarBadge(self.image_view)
        self.alarm = QLabel("")
        self.alarm.setObjectName("alarmBanner")
        self.alarm.setWordWrap(True)
        self.alarm_list = QToolButton()
        self.alarm_list.setText("All alarms")
        self.alarm_list.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.alarm_list.setMenu(QMenu(self.alarm_list))
        self.alarm_ack = QPushButton("Acknowledge (Ctrl+K)")
        self.alarm_ack.clicked.connect(controller.acknowledge_alarms)
        self.follow = QCheckBox("Show each new plate")
        self.follow.setChecked(controller.follow_new)
        self.follow.toggled.connect(lambda on: setattr(controller, "follow_new", on))
        self.alarm_bar = QFrame()
        self.alarm_bar.setObjectName("alarmBar")
        ab = QHBoxLayout(self.alarm_bar)
        ab.setContentsMargins(0, 0, 0, 0)
        ab.addWidget(self.alarm, 1)
        ab.addWidget(self.alarm_list)
        ab.addWidget(self.alarm_ack)
        self.alarm_bar.setVisible(False)
        self.caption = ElidedLabel("")
        self.caption.setObjectName("imageCaption")
        center = QWidget()
        cv = QVBoxLayout(center)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.alarm_bar)
        cv.addWidget(self.follow)
        self.follow.setVisible(False)
        cv.addWidget(self.caption)
        cv.addWidget(self.image_view, 1)

        self.bars = ProbabilityBars()
        self.label_text = QLabel("Label: —")
        self.label_text.setObjectName("labelText")
        self.label_text.setWordWrap(True)
        self.values_text = QLabel("")
        self.values_text.setObjectName("valuesText")
        self.values_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values_text.setWordWrap(True)
        self.explain = ExplainPanel()
        self.explain.toggled.connect(controller.show_heatmap)
        self.explain.class_chosen.connect(controller.set_heatmap_class)
        self.explain.positive_only_changed.connect(controller.set_positive_only)
        self.explain.opacity_changed.connect(self.image_view.set_overlay_opacity)
        self.keys_hint = QLabel(
            "1-9 toggle · Enter accept · 0/N no defect · ←/→ move · Ctrl+Z undo · F1 help"
        )
        self.keys_hint.setWordWrap(True)
        self.keys_hint.setObjectName("keysHint")
        right = QWidget()
        right.setMinimumWidth(250)
        rv = QVBoxLayout(right)
        header = QLabel("<b>Probabilities</b> · bar = sigmoid, tick = threshold")
        header.setWordWrap(True)  # a long header must never widen the window
        rv.addWidget(header)
        rv.addWidget(self.bars)
        rv.addWidget(self.label_text)
        rv.addWidget(self.values_text)
        rv.addWidget(self.explain)
        rv.addStretch(1)
        rv.addWidget(self.keys_hint)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(center)
        # the side panel scrolls instead of making the window taller than a 700 px screen
        side = QScrollArea()
        side.setWidget(right)
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side.setMinimumWidth(right.minimumWidth() + 14)
        self.split.addWidget(side)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        self.split.setStretchFactor(2, 0)
        self.split.setSizes([470, 560, 320])

        self.welcome = WelcomePage()
        for key, sig in (
            ("folder", self.welcome.open_folder),
            ("watch", self.welcome.watch_folder),
            ("import", self.welcome.import_dataset),
            ("workspace", self.welcome.open_workspace),
        ):
            sig.connect(lambda k=key: emit(self.welcome_action, k))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.split)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._install_shortcuts()
        self._bind()

    # -- controller -> widgets -----------------------------------------------------------------
    def _bind(self) -> None:
        c = self.ctl
        c.inserted.connect(self._on_inserted)
        c.changed.connect(self._on_rows_changed)
        c.current_changed.connect(self._on_current)
        c.filter_changed.connect(self._show_filter)
        c.classes_changed.connect(self._on_classes)
        c.alarms_changed.connect(self._show_alarms)
        c.heatmap.connect(self._show_heatmap)
        c.heatmap_message.connect(lambda text: self.explain.set_message(text))
        c.heatmap_progress.connect(self._show_heatmap_progress)
        c.heatmap_method.connect(lambda text: self.explain.setTitle(f"Explanation ({text})"))

    def _on_inserted(self) -> None:
        self.show_images()
        self._update_count()

    def _on_rows_changed(self, rows: list[int]) -> None:
        self._update_count()
        cur = self.ctl.row_of(self.ctl.current) if self.ctl.current else None
        if cur is not None and cur in rows:
            self._show_entry_info()

    def _on_classes(self, classes: tuple[str, ...]) -> None:
        self.bars.set_classes(classes)
        self.explain.set_classes(classes, preferred=self.ctl.heatmap_class)
        for combo, first in (
            (self.filter_pred, "any prediction"),
            (self.filter_label, "any label"),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([first, *classes, NO_DEFECT])
            combo.blockSignals(False)

    def _on_current(self, path: str | None) -> None:
        """The controller moved: follow it in the gallery, show the image and its numbers."""
        self.image_view.clear_overlay()
        self.explain.edge_flag.setVisible(False)
        if path is None:
            return
        row = self.ctl.row_of(path)
        idx = self.proxy.mapFromSource(self.model.index(row)) if row is not None else QModelIndex()
        if idx.isValid() and idx != self.gallery.currentIndex():
            self.gallery.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.gallery.scrollTo(idx)
        self.caption.setText(path)
        self._show_entry_info()
        self.runner.submit(
            "image",
            jobs.load_full_image,
            path,
            on_result=self._on_image,
            on_error=lambda e, p=path: self._on_image_error(p, e),
        )

    def _on_image(self, loaded: jobs.LoadedImage) -> None:
        if loaded.path != self.ctl.current:
            return
        self.image_view.set_image(loaded.image)
        self.image_view.set_boxes(loaded.boxes)
        extra = f" · {len(loaded.boxes)} boxes" if loaded.boxes else ""
        self.caption.setText(f"{loaded.path}  ({loaded.width}×{loaded.height}{extra})")

    def _on_image_error(self, path: str, exc: InspectorError) -> None:
        reason = getattr(exc, "reason", str(exc))
        self.ctl.image_failed(path, reason)
        if path == self.ctl.current:
            self.image_view.set_image(None)
            self.caption.setText(f"{path}: {reason}")

    def _show_entry_info(self) -> None:
        e: Entry | None = self.ctl.entry(self.ctl.current)
        if e is None:
            self.badge.setVisible(False)
            return
        self.badge.show_for(e.prediction)
        self.bars.set_prediction(e.prediction)
        self.bars.set_labels(e.labels)
        self.values_text.setText(
            "\n".join(self.bars.text_values()) if e.prediction else (e.error or "no prediction yet")
        )
        self.label_text.setText(f"<b>Label:</b> {e.label_text()} <i>({e.status.value})</i>")
        self.explain.set_classes(self.ctl.classes, preferred=self.ctl.heatmap_class)

    def _show_alarms(self, alarms: list[tuple[float, str]]) -> None:
        """The banner: the latest defect and how many since the watch started or the last ack."""
        menu = self.alarm_list.menu()
        menu.clear()
        if not alarms:
            self.alarm_bar.setVisible(False)
            return
        for t, path in reversed(alarms[-50:]):
            act = menu.addAction(
                f"{time.strftime('%H:%M:%S', time.localtime(t))}  {self.ctl.alarm_text(path)}"
            )
            act.triggered.connect(lambda _=False, p=path: self.ctl.select(p))
        n = len(alarms)
        since = time.strftime("%H:%M", time.localtime(alarms[0][0]))
        self.alarm.setText(f"⚠ {self.ctl.alarm_text(alarms[-1][1])}")
        self.alarm.setToolTip(
            f"{n} alarm{'s' * (n != 1)} (defects and unfamiliar plates) since {since}"
        )
        self.alarm_list.setText(f"{n} alarm{'s' * (n != 1)} since {since}")
        self.alarm_bar.setVisible(True)

    def _show_heatmap(self, h: Heatmap | None) -> None:
        if h is None:
            self.runner.cancel("overlay")
            self.image_view.clear_overlay()
            self.explain.edge_flag.setVisible(False)
            return
        self.runner.submit(
            "overlay",
            jobs.render_heatmap,
            h.values,
            self.ctl.positive_only,
            on_result=lambda r, p=h.path: self._on_rendered(p, r),
        )
        self.explain.edge_flag.setVisible(h.edge_attention)

    def _on_rendered(self, path: str, r: jobs.RenderedHeatmap) -> None:
        if path != self.ctl.current or not self.ctl.heatmap_on:
            return
        self.image_view.set_overlay(r.overlay)
        self.image_view.set_contours(r.contours)

    def _show_heatmap_progress(self, p: Progress | None) -> None:
        if p is None:
            self.explain.set_busy(None)
        else:
            self.explain.set_busy(p.done, p.total, p.message)

    def _show_filter(self, f: GalleryFilter) -> None:
        self.lists.blockSignals(True)
        self.lists.setCurrentIndex(1 if f.source == "watched" else 0)
        self.lists.blockSignals(False)
        for combo, value in (
            (self.filter_pred, f.predicted),
            (self.filter_label, f.label),
            (self.filter_status, f.status),
        ):
            combo.blockSignals(True)
            i = combo.findText(value) if value else 0
            combo.setCurrentIndex(max(0, i))
            combo.blockSignals(False)
        self.filter_unfamiliar.blockSignals(True)
        self.filter_unfamiliar.setChecked(f.unfamiliar)
        self.filter_unfamiliar.blockSignals(False)
        self._update_count()

    # -- widgets -> controller -----------------------------------------------------------------
    def _on_gallery_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        if current.isValid():
            self.ctl.select(self.ctl.entries[self.proxy.mapToSource(current).row()].path)

    def _filter_edited(self) -> None:
        def val(combo: QComboBox) -> str:
            return combo.currentText() if combo.currentIndex() > 0 else ""

        self.ctl.set_filter(
            GalleryFilter(
                self.ctl.filter.source,
                val(self.filter_pred),
                val(self.filter_label),
                val(self.filter_status),
                self.filter_unfamiliar.isChecked(),
            )
        )

    def _update_count(self) -> None:
        c = self.ctl.counts()
        shown = self.proxy.rowCount()
        total = c["images"] + c["unreadable"]
        text = (
            f"{shown:,} of {c['images']:,} images" if shown != total else f"{c['images']:,} images"
        )
        if c["unreadable"]:
            text += f" · {c['unreadable']:,} unreadable"
        self.count_label.setText(text)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_gallery_prepared", False):
            self._gallery_prepared = True
            # lay out and style the gallery page once now, while nobody waits, instead of in the
            # event-loop turn that shows the first opened images (a ~10-20 ms stall there)
            QTimer.singleShot(0, self._prepare_gallery_page)

    def _prepare_gallery_page(self) -> None:
        if self.stack.currentWidget() is not self.split:
            self.split.resize(self.stack.size())
            self.split.grab()

    def show_images(self) -> None:
        """Leave the welcome page for the gallery (also when a watch starts on an empty folder)."""
        self.stack.setCurrentWidget(self.split)

    def watch(self, folder: str) -> None:
        self.ctl.set_watching(True)
        self.watcher.start(folder)
        self.follow.setVisible(True)
        self.show_images()

    def stop_watching(self) -> None:
        self.watcher.stop()
        self.ctl.set_watching(False)
        self.follow.setVisible(False)

    def fit(self) -> None:
        self.image_view.fit()

    def actual_size(self) -> None:
        self.image_view.actual_size()

    def _install_shortcuts(self) -> None:
        c = self.ctl
        actions = {
            "accept": c.accept_model,
            "no_defect": c.no_defect,
            "next": lambda: c.move(1),
            "previous": lambda: c.move(-1),
            "undo": c.undo,
            "redo": c.redo,
            "heatmap": self.explain.show_box.toggle,
            "positive": self.explain.positive_box.toggle,
            "fit": self.image_view.fit,
            "actual": self.image_view.actual_size,
            "acknowledge": c.acknowledge_alarms,
            "unfamiliar": c.toggle_unfamiliar_filter,
        }
        for keys, name, _help in SHORTCUTS:
            for k in keys:
                sc = QShortcut(QKeySequence(k), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                if name == "toggle":
                    sc.activated.connect(partial(c.toggle_class, int(k) - 1))
                else:
                    sc.activated.connect(actions[name])

    def shutdown(self) -> None:
        self.watcher.stop()
        self.ctl.shutdown()
        self.thumbs.shutdown()
