"""The inspectors' view: gallery, image with SHAP overlay, probabilities, keyboard labelling.

Keys (window-wide while this view is shown): 1-9 toggle a class, Enter accepts the model's
labels, 0 or N = no defect, arrows / Space / Backspace move, Ctrl+Z / Ctrl+Shift+Z undo / redo,
H toggles the heatmap, F fit, 1:1 with Ctrl+1. Every decision goes through
:class:`~inspector.gui.labels.LabelService` synchronously before the selection moves.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from inspector.domain import NO_DEFECT, InspectorError, LabelStatus, Progress
from inspector.gui import jobs
from inspector.gui.explanations import Explanation, ExplanationsUnavailable, explain_job
from inspector.gui.labels import Decision, LabelService
from inspector.gui.qtcompat import emit
from inspector.gui.views.welcome import WelcomePage
from inspector.gui.watch import FolderWatcher
from inspector.gui.widgets.explain_panel import ExplainPanel
from inspector.gui.widgets.gallery import (
    GalleryDelegate,
    GalleryFilter,
    GalleryModel,
    GalleryView,
    ThumbnailCache,
)
from inspector.gui.widgets.image_view import ImageView
from inspector.gui.widgets.probability_bars import ProbabilityBars
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
    (("F",), "fit", "Fit the image to the view"),
    (("Ctrl+1",), "actual", "Actual size (1:1)"),
)


class InspectView(QWidget):
    status_message = Signal(str)
    problem = Signal(str, str)  # path, reason
    current_changed = Signal(str)
    decision_made = Signal(object)  # Decision

    def __init__(self, runner: Runner, workspace: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspectView")
        self.runner = runner
        self.workspace = workspace
        self.predictor = None
        self.model_dir: str = ""
        self.service: LabelService | None = None
        self.classes: tuple[str, ...] = ()
        self._undo: list[str] = []
        self._redo: list[str] = []
        self._pending_score: list[str] = []

        self.thumbs = ThumbnailCache(self)
        self.model = GalleryModel(self.thumbs, self)
        self.proxy = GalleryFilter(self)
        self.proxy.setSourceModel(self.model)
        self.gallery = GalleryView()
        self.gallery.setModel(self.proxy)
        self.gallery.setItemDelegate(GalleryDelegate(self.thumbs, self.gallery))
        self.gallery.selectionModel().currentChanged.connect(self._on_current)
        self.watcher = FolderWatcher(runner, self)
        self.watcher.new_files.connect(lambda files: self.add_paths(files, newest_first=True))
        self.watcher.problem.connect(self.status_message)

        self.filter_pred = QComboBox()
        self.filter_label = QComboBox()
        self.filter_status = QComboBox()
        self.filter_status.addItems(["any status", *(s.value for s in LabelStatus)])
        for combo in (self.filter_pred, self.filter_label, self.filter_status):
            combo.currentIndexChanged.connect(self._apply_filter)
            combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.count_label = QLabel("")
        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        for w in (
            QLabel("Predicted"),
            self.filter_pred,
            QLabel("Label"),
            self.filter_label,
            self.filter_status,
            self.count_label,
        ):
            filters.addWidget(w)
        filters.addStretch(1)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addLayout(filters)
        lv.addWidget(self.gallery)

        self.image_view = ImageView()
        self.alarm = QLabel("")
        self.alarm.setObjectName("alarmBanner")
        self.alarm.setVisible(False)
        self.caption = QLabel("")
        self.caption.setObjectName("imageCaption")
        center = QWidget()
        cv = QVBoxLayout(center)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.alarm)
        cv.addWidget(self.caption)
        cv.addWidget(self.image_view, 1)

        self.bars = ProbabilityBars()
        self.label_text = QLabel("Label: —")
        self.label_text.setObjectName("labelText")
        self.label_text.setWordWrap(True)
        self.values_text = QLabel("")
        self.values_text.setObjectName("valuesText")
        self.values_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explain = ExplainPanel()
        self.explain.requested.connect(self.request_explanation)
        self.explain.hidden.connect(self._hide_overlay)
        self.explain.opacity_changed.connect(self.image_view.set_overlay_opacity)
        self.keys_hint = QLabel(
            "1-9 toggle · Enter accept · 0/N no defect · ←/→ move · Ctrl+Z undo · F1 help"
        )
        self.keys_hint.setWordWrap(True)
        self.keys_hint.setObjectName("keysHint")
        right = QWidget()
        right.setMinimumWidth(300)
        rv = QVBoxLayout(right)
        rv.addWidget(QLabel("<b>Probabilities</b> (bar = sigmoid, tick = threshold)"))
        rv.addWidget(self.bars)
        rv.addWidget(self.label_text)
        rv.addWidget(self.values_text)
        rv.addWidget(self.explain)
        rv.addStretch(1)
        rv.addWidget(self.keys_hint)

        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(left)
        self.split.addWidget(center)
        self.split.addWidget(right)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 3)
        self.split.setStretchFactor(2, 0)
        self.split.setSizes([470, 560, 320])

        self.welcome = WelcomePage()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.split)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._install_shortcuts()

    # -- wiring from the shell -----------------------------------------------------------------
    def set_service(self, service: LabelService | None) -> None:
        self.service = service

    def set_predictor(self, predictor, model_dir: str) -> None:
        """A model is ready (loaded off-thread): score what is loaded and not yet scored."""
        self.predictor, self.model_dir = predictor, model_dir
        self.set_classes(tuple(predictor.classes))
        todo = [e.path for e in self.model.entries() if e.prediction is None and not e.error]
        if todo:
            self._score(todo)

    def set_classes(self, classes: tuple[str, ...]) -> None:
        self.classes = tuple(classes)
        self.bars.set_classes(self.classes)
        self.explain.set_classes(self.classes)
        for combo, first in (
            (self.filter_pred, "any prediction"),
            (self.filter_label, "any label"),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([first, *self.classes, NO_DEFECT])
            combo.blockSignals(False)

    # -- loading -------------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        """Files and/or folders (recursively): listed in a worker, added in chunks, scored."""
        emit(self.status_message, f"Opening {', '.join(Path(p).name for p in paths[:3])}…")
        self.runner.submit(
            "list",
            jobs.list_images,
            list(paths),
            wants_cancel=True,
            latest_only=False,
            on_yield=self.add_paths,
            on_error=lambda e: emit(self.status_message, str(e)),
        )

    def add_paths(self, paths: list[str], newest_first: bool = False) -> None:
        added = self.model.add(paths, newest_first=newest_first)
        if not added:
            return
        self.stack.setCurrentWidget(self.split)
        self._update_count()
        if newest_first:
            added = list(reversed(added))
        self._score(added, front=newest_first)
        cur = self.gallery.currentIndex()
        if not cur.isValid() or (newest_first and self.watcher.active and cur.row() <= len(added)):
            self.select_row(0)

    def _score(self, paths: list[str], front: bool = False) -> None:
        """Queue paths for scoring; one scoring job runs at a time over the queue."""
        if front:
            self._pending_score = paths + self._pending_score
        else:
            self._pending_score = self._pending_score + paths
        if not self.runner.is_running("score"):
            self._next_score_job()

    def _next_score_job(self) -> None:
        if not self._pending_score:
            return
        batch, self._pending_score = self._pending_score[:512], self._pending_score[512:]
        self.runner.submit(
            "score",
            jobs.score_paths,
            self.predictor,
            batch,
            self.service,
            wants_cancel=True,
            latest_only=False,
            on_yield=self._on_scored,
            on_progress=self._on_score_progress,
            on_finished=self._next_score_job,
            on_error=lambda e: emit(self.status_message, f"scoring stopped: {e}"),
        )

    def _on_score_progress(self, p: Progress) -> None:
        left = len(self._pending_score) + p.total - p.done
        emit(self.status_message, f"Scoring… {left} images left" if left else "Scoring done")

    def _on_scored(self, batch: jobs.ScoreBatch) -> None:
        changes: dict[str, dict] = {}
        for err in batch.errors:
            if err.path:
                changes.setdefault(err.path, {})["error"] = err.reason
            emit(self.problem, err.path, err.reason)
        for path, st in batch.states.items():
            changes.setdefault(path, {}).update(labels=st.labels, status=st.status)
        for pred in batch.predictions:
            changes.setdefault(pred.path, {})["prediction"] = pred
        self.model.update_many(changes)
        cur = self.current_path()
        if self.watcher.active:
            alarms = [p for p in batch.predictions if p.labels]
            if alarms:
                e = self.model.entry(self.model.row_of(alarms[-1].path))
                self._show_alarm(e.name, e.caption())
        if cur and (
            cur in batch.states
            or any(p.path == cur for p in batch.predictions)
            or any(e.path == cur for e in batch.errors)
        ):
            self._show_entry_info()

    def _show_alarm(self, name: str, text: str) -> None:
        self.alarm.setText(f"⚠ DEFECT  {name}: {text}")
        self.alarm.setVisible(True)

    # -- navigation ----------------------------------------------------------------------------
    def current_path(self) -> str | None:
        idx = self.gallery.currentIndex()
        if not idx.isValid():
            return None
        return self.model.entry(self.proxy.mapToSource(idx).row()).path

    def current_entry(self):
        path = self.current_path()
        row = self.model.row_of(path) if path else None
        return None if row is None else self.model.entry(row)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.proxy.rowCount():
            idx = self.proxy.index(row, 0)
            self.gallery.selectionModel().setCurrentIndex(
                idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
            self.gallery.scrollTo(idx)

    def select_path(self, path: str) -> None:
        row = self.model.row_of(path)
        if row is None:
            return
        idx = self.proxy.mapFromSource(self.model.index(row))
        if not idx.isValid():  # filtered out: show everything again
            self._reset_filters()
            idx = self.proxy.mapFromSource(self.model.index(row))
        self.select_row(idx.row())

    def move(self, step: int) -> None:
        cur = self.gallery.currentIndex()
        row = (cur.row() if cur.isValid() else -1) + step
        self.select_row(max(0, min(self.proxy.rowCount() - 1, row)))

    def _on_current(self, current: QModelIndex, _prev: QModelIndex) -> None:
        path = self.current_path()
        self.image_view.clear_overlay()
        if path is None:
            return
        self.caption.setText(path)
        self._show_entry_info()
        self.runner.submit(
            "image",
            jobs.load_full_image,
            path,
            wants_cancel=True,
            on_result=self._on_image,
            on_error=lambda e, p=path: self._on_image_error(p, e),
        )
        if self.explain.show_box.isChecked():
            self.request_explanation()
        emit(self.current_changed, path)

    def _on_image(self, loaded: jobs.LoadedImage) -> None:
        if loaded.path != self.current_path():
            return
        self.image_view.set_image(loaded.image)
        self.image_view.set_boxes(loaded.boxes)
        extra = f" · {len(loaded.boxes)} boxes" if loaded.boxes else ""
        self.caption.setText(f"{loaded.path}  ({loaded.width}×{loaded.height}{extra})")

    def _on_image_error(self, path: str, exc: BaseException) -> None:
        if not isinstance(exc, InspectorError):
            raise exc
        reason = getattr(exc, "reason", str(exc))
        self.model.update(path, error=reason)
        emit(self.problem, path, reason)
        self.image_view.set_image(None)
        self.caption.setText(f"{path}: {reason}")

    def _show_entry_info(self) -> None:
        e = self.current_entry()
        if e is None:
            return
        self.bars.set_prediction(e.prediction)
        self.bars.set_labels(e.labels)
        self.values_text.setText(
            "\n".join(self.bars.text_values()) if e.prediction else (e.error or "no prediction yet")
        )
        if e.labels is None:
            label = "not labelled yet"
        else:
            label = ", ".join(e.labels) if e.labels else NO_DEFECT
        self.label_text.setText(f"<b>Label:</b> {label} <i>({e.status.value})</i>")
        if e.prediction and e.prediction.labels:
            top = max(
                e.prediction.labels,
                key=lambda c: e.prediction.probabilities[e.prediction.classes.index(c)],
            )
            self.explain.set_classes(self.classes, preferred=top)

    # -- labelling -----------------------------------------------------------------------------
    def _decide(self, labels: list[str], advance: bool) -> None:
        e = self.current_entry()
        if e is None:
            return
        if self.service is None:
            emit(self.status_message, "Labels cannot be saved: no workspace database is open")
            return
        try:
            d = self.service.decide(e.path, labels, seen=e.prediction)
        except InspectorError as exc:
            emit(self.status_message, f"Label not saved: {exc}")
            return
        self._undo.append(e.path)
        self._redo.clear()
        self._apply(d)
        if advance:
            self.move(1)

    def _apply(self, d: Decision) -> None:
        self.model.update(d.path, labels=d.labels, status=d.status)
        if d.path == self.current_path():
            self._show_entry_info()
        shown = (
            NO_DEFECT
            if d.labels == ()
            else ("unlabelled" if d.labels is None else ", ".join(d.labels))
        )
        emit(self.status_message, f"{d.kind}: {Path(d.path).name} → {shown} (saved)")
        emit(self.decision_made, d)

    def _base_labels(self, e) -> set[str]:
        if e.labels is not None:
            return set(e.labels)
        return set(e.prediction.labels) if e.prediction else set()

    def toggle_class(self, i: int) -> None:
        e = self.current_entry()
        classes = self.classes or (e.prediction.classes if e and e.prediction else ())
        if e is None or i >= len(classes):
            return
        labels = self._base_labels(e) ^ {classes[i]}
        self._decide([c for c in classes if c in labels], advance=False)

    def accept_model(self) -> None:
        e = self.current_entry()
        if e is None:
            return
        if e.prediction is None:
            emit(self.status_message, "No prediction to accept yet for this image")
            return
        self._decide(list(e.prediction.labels), advance=True)

    def no_defect(self) -> None:
        self._decide([], advance=True)

    def undo(self) -> None:
        self._undo_redo(self._undo, self._redo, "undo")

    def redo(self) -> None:
        self._undo_redo(self._redo, self._undo, "redo")

    def _undo_redo(self, src: list[str], dst: list[str], kind: str) -> None:
        if not src or self.service is None:
            emit(self.status_message, f"Nothing to {kind}")
            return
        path = src.pop()
        try:
            d = self.service.undo(path) if kind == "undo" else self.service.redo(path)
        except InspectorError as exc:
            emit(self.status_message, f"Cannot {kind}: {exc}")
            return
        dst.append(path)
        self.select_path(path)
        self._apply(d)

    # -- explanations ----------------------------------------------------------------------------
    def request_explanation(self) -> None:
        path, cls = self.current_path(), self.explain.current_class()
        if not path or not cls:
            return
        if not self.model_dir:
            self.explain.set_message("Explanations need a model")
            return
        self.explain.set_message(f"Computing the heatmap of {cls}…")
        self.explain.set_busy(0, 0)
        self.runner.submit(
            "explain",
            explain_job,
            self.model_dir,
            path,
            cls,
            self.workspace,
            wants_cancel=True,
            on_progress=self._on_explain_progress,
            on_yield=self._on_explained,
            on_error=self._on_explain_error,
            on_finished=lambda: self.explain.set_busy(None),
        )

    def _on_explain_progress(self, p: Progress) -> None:
        self.explain.set_busy(p.done, p.total, p.message)

    def _on_explained(self, ex: Explanation) -> None:
        if ex.path != self.current_path() or not self.explain.show_box.isChecked():
            return
        self.image_view.set_overlay(jobs.colorize(ex.heatmap))
        self.explain.edge_flag.setVisible(ex.edge_attention)
        if not ex.final:
            self.explain.set_message(f"{ex.cls}: first look ({ex.samples} samples), refining…")
        else:
            self.explain.set_message(f"{ex.cls}{' (cached)' if ex.cached else ''}")

    def _on_explain_error(self, exc: BaseException) -> None:
        self.explain.set_busy(None)
        if isinstance(exc, ExplanationsUnavailable):
            self.explain.set_message(str(exc))
        elif isinstance(exc, InspectorError):
            self.explain.set_message(f"explanation failed: {exc}")
        else:
            raise exc

    def _hide_overlay(self) -> None:
        self.runner.cancel("explain")
        self.image_view.clear_overlay()
        self.explain.set_busy(None)
        self.explain.edge_flag.setVisible(False)

    # -- filters, shortcuts ----------------------------------------------------------------------
    def _apply_filter(self) -> None:
        def val(combo: QComboBox) -> str:
            return combo.currentText() if combo.currentIndex() > 0 else ""

        self.proxy.set_filter(
            val(self.filter_pred), val(self.filter_label), val(self.filter_status)
        )
        self._update_count()

    def _reset_filters(self) -> None:
        for combo in (self.filter_pred, self.filter_label, self.filter_status):
            combo.setCurrentIndex(0)

    def _update_count(self) -> None:
        n, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(f"{shown:,} of {n:,}" if shown != n else f"{n:,} images")

    def _install_shortcuts(self) -> None:
        actions = {
            "accept": self.accept_model,
            "no_defect": self.no_defect,
            "next": lambda: self.move(1),
            "previous": lambda: self.move(-1),
            "undo": self.undo,
            "redo": self.redo,
            "heatmap": lambda: self.explain.show_box.toggle(),
            "fit": self.image_view.fit,
            "actual": self.image_view.actual_size,
        }
        for keys, name, _help in SHORTCUTS:
            for k in keys:
                sc = QShortcut(QKeySequence(k), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                if name == "toggle":
                    sc.activated.connect(partial(self.toggle_class, int(k) - 1))
                else:
                    sc.activated.connect(actions[name])

    def shutdown(self) -> None:
        self.watcher.stop()
        self._pending_score.clear()
        self.thumbs.shutdown()
