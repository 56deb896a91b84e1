"""The supervisors' views in the window: the sign-off queue (F4) and metrics (F5).

The window makes one :class:`SupervisorViews` and tells it when the workspace and the model are
ready; everything else (tabs, the queue count in the status bar, re-flagging the queue and the
loaded model's thresholds after a threshold revision) is wired here, so the window's shell
stays a shell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel

from inspector.controllers.heatmaps import Heatmap
from inspector.controllers.metrics import MetricsController
from inspector.controllers.review_queue import ReviewQueueController
from inspector.controllers.supervision import (
    Supervision,
    ThresholdRevision,
    record_edge_flag,
    use_active_thresholds,
)
from inspector.gui.views.metrics import MetricsView
from inspector.gui.views.review_queue import ReviewQueueView

if TYPE_CHECKING:
    from inspector.controllers.labels import LabelService
    from inspector.gui.main_window import MainWindow


class SupervisorViews:
    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.queue = ReviewQueueController(win.runner)
        self.metrics = MetricsController(win.runner)
        self.review_view = ReviewQueueView(self.queue, win.runner, win)
        self.metrics_view = MetricsView(self.metrics, win)
        win.add_view(self.review_view, "Review", "F4")
        win.add_view(self.metrics_view, "Metrics", "F5")
        self.count_label = QLabel("")
        self.count_label.setObjectName("queueCount")
        self.count_label.setMinimumWidth(170)
        self.count_label.setToolTip("Doubtful decisions waiting for a supervisor's sign-off (F4)")
        win.statusBar().addPermanentWidget(self.count_label)
        self.queue.count_changed.connect(
            lambda n: self.count_label.setText(f"sign-off queue: {n:,}")
        )
        self.metrics.saved.connect(self._thresholds_saved)
        self.queue.decided.connect(lambda _d: self.metrics.invalidate())
        # a heatmap the inspectors look at that watches the plate's edges flags the plate
        win.controller.heatmap.connect(self._heatmap_seen)
        self._sup: Supervision | None = None

    def set_service(self, service: LabelService | None) -> None:
        sup = None if service is None else service.supervision()
        self._sup = sup
        self.queue.set_service(sup, self.win.workspace)
        self.metrics.set_service(sup)
        if sup is not None and self.metrics_view.isVisible():
            self.metrics_view.measure()

    def set_model(self, predictor, model_dir: str) -> None:
        self.queue.set_model(model_dir, predictor.version)
        self.queue.refresh_filters()
        self.metrics.refresh_models()

    def _heatmap_seen(self, h: Heatmap | None) -> None:
        pred = self.win.controller.predictor
        if h is None or not h.final or self._sup is None or pred is None:
            return
        self.win.runner.submit(
            "edge-flag",
            record_edge_flag,
            self._sup,
            h.path,
            pred.version,
            h.edge_attention,
            on_result=lambda changed: changed and h.edge_attention and self.queue.refresh(),
            latest_only=False,
        )

    def _thresholds_saved(self, rev: ThresholdRevision) -> None:
        """Re-flag the queue; the loaded model labels with the new revision from now on."""
        self.queue.refresh()
        pred = self.win.controller.predictor
        if pred is not None and getattr(pred, "version", None) == rev.model_version:
            use_active_thresholds(pred, rev.thresholds)

    @staticmethod
    def help_rows() -> list[tuple[str, str]]:
        """Rows for the shortcuts dialog (F1)."""
        return [
            ("F4", "Sign-off queue (supervisors)"),
            ("A / O", "Sign-off queue: approve / override (ticked classes, a reason)"),
            ("H", "Sign-off queue: heatmap of the plate's top class"),
            ("PgUp / PgDn", "Sign-off queue: previous / next page"),
            ("Ctrl+R", "Sign-off report (CSV and PDF)"),
            ("F5", "Metrics and per-class threshold revisions"),
        ]

    def shutdown(self) -> None:
        self.review_view.shutdown()
