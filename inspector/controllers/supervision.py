"""The supervisors' door to the label store: the sign-off queue, review decisions, threshold
revisions, evaluation reads. A narrow adapter like :class:`~inspector.controllers.labels.
LabelService` (get one with ``LabelService.supervision()``): only this file knows that part of
the store's API.

Reads of a page or a count are cheap (indexed) and may run on the GUI thread; saving a threshold
revision rewrites every prediction of the model and runs in a worker.

>>> sup = service.supervision()                                          # doctest: +SKIP
>>> items, total = sup.queue(QueueFilter(user="ana"), limit=100)         # doctest: +SKIP
>>> sup.review(items[0].path, "approve")                                 # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from inspector.jobs import CancelFn, Job, never
from inspector.store.evaluation import IMAGE_SETS
from inspector.store.records import ModelVersion, ReviewDecision
from inspector.store.signoff import LogRow, QueueFilter, QueueItem
from inspector.store.thresholds import ThresholdRevision

__all__ = [
    "IMAGE_SETS",
    "LogRow",
    "QueueFilter",
    "QueueItem",
    "Supervision",
    "ThresholdRevision",
]


class Supervision:
    """What the review-queue and metrics controllers may ask of the store, as ``user``/``role``."""

    def __init__(self, store: Any, user: str, role: str) -> None:
        self._store = store
        self.user = user
        self.role = role

    @property
    def read_only(self) -> bool:
        return bool(self._store.read_only)

    # -- the sign-off queue ----------------------------------------------------------------------
    def queue(
        self, filt: QueueFilter, *, limit: int = 100, offset: int = 0, cancel: CancelFn = never
    ) -> tuple[list[QueueItem], int]:
        """One page of the queue and the queue's length, from one consistent snapshot."""
        with self._store.snapshot():
            return (
                self._store.signoff_queue(filt, limit=limit, offset=offset),
                self._store.signoff_count(filt),
            )

    def review(
        self, path: str, decision: str, reason: str = "", labels: Iterable[str] | None = None
    ) -> ReviewDecision:
        """Store a supervisor's approval or override (durable when this returns)."""
        return self._store.review(
            path,
            decision,
            user=self.user,
            reason=reason,
            labels=None if labels is None else list(labels),
        )

    def bands(self) -> tuple[float, float]:
        """The workspace's low-confidence bands (around a threshold; "no class passes")."""
        return self._store.low_confidence_bands()

    def set_bands(self, band: float, none_over_band: float) -> int:
        """Store new bands (log-odds) and rescore every stored prediction; returns how many."""
        return self._store.set_low_confidence_bands(band, none_over_band)

    def labellers(self) -> list[str]:
        return self._store.decision_makers()

    def log(self, since: str | None, until: str | None) -> list[LogRow]:
        return self._store.signoff_log(since, until)

    def flag_heatmap(self, path: str, model_version: str, edge: bool) -> bool:
        """Record a heatmap's edge flag on the image's stored prediction of that model."""
        if self.read_only:
            return False
        return bool(self._store.flag_heatmap(path, model_version, edge))

    # -- model versions, thresholds, evaluation ------------------------------------------------
    def model_versions(self) -> list[ModelVersion]:
        return self._store.model_versions()

    def active_model(self) -> ModelVersion | None:
        return self._store.active_model()

    def revisions(self, model_version: str) -> list[ThresholdRevision]:
        return self._store.threshold_revisions(model_version)

    def save_thresholds(
        self,
        model_version: str,
        thresholds: Iterable[float],
        reason: str = "",
        cancel: CancelFn = never,
    ) -> Job[ThresholdRevision]:
        """A job: write a threshold revision and re-flag the model's predictions (one write)."""
        from inspector.domain import Progress

        yield Progress(0, 1, f"saving thresholds of {model_version}")
        rev = self._store.add_threshold_revision(
            model_version, list(thresholds), user=self.user, role=self.role, reason=reason
        )
        yield Progress(1, 1, "saved")
        return rev

    def scored(
        self,
        model_version: str | None,
        image_set: str,
        since: str | None = None,
        until: str | None = None,
    ):
        """(classes, y, p) of a model version on an image set (see ``store.evaluation``)."""
        return self._store.scored(model_version, image_set, since, until)


def record_edge_flag(
    sup: Supervision, path: str, model_version: str, edge: bool, cancel: CancelFn = never
) -> bool:
    """A job-shaped :meth:`Supervision.flag_heatmap` (a heatmap was computed somewhere)."""
    return sup.flag_heatmap(path, model_version, edge)


def use_active_thresholds(predictor: Any, thresholds: Iterable[float] | None) -> bool:
    """Make a loaded predictor label with the store's active threshold revision.

    ``thresholds`` is ``LabelService.active_thresholds(predictor.version)``; nothing changes when
    it is None or equal to what the predictor uses. Returns whether the predictor changed.
    """
    import dataclasses

    if thresholds is None:
        return False
    values = tuple(float(t) for t in thresholds)
    if values == tuple(predictor.thresholds) or len(values) != len(predictor.classes):
        return False
    predictor.card = dataclasses.replace(predictor.card, thresholds=values)
    return True
