"""The controllers' one door to the label store (``inspector.store``): a narrow adapter.

Only this file knows the store's API, so when that API moves only this file changes. It is
thread-safe the way the store is (one SQLite connection per thread): workers record predictions
and read label states; the GUI thread writes label decisions, synchronously, so each decision is
durable before the view moves on.

>>> svc = LabelService.open("ws", user="ana", role="inspector")          # doctest: +SKIP
>>> svc.decide("plates/a.bmp", ["crazing"], seen=prediction)             # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.domain import InspectorError, LabelStatus, Prediction
from inspector.jobs import CancelFn, Job, never

if TYPE_CHECKING:
    from inspector.controllers.supervision import Supervision
    from inspector.store.importers import ImportReport

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LabelState:
    labels: tuple[str, ...] | None  # () = no defect, None = unlabelled
    status: LabelStatus


@dataclass(frozen=True, slots=True)
class Decision:
    """What the GUI shows after a write: the event's user/role and the image's new state."""

    path: str
    kind: str
    labels: tuple[str, ...] | None
    status: LabelStatus
    user: str
    role: str


# -- the review views' reads (top-loss queue, history) and the supervisor PIN ------------------
def _loss_filter(f: object):
    from inspector.store.loss_queue import LossFilter

    return LossFilter(
        model_version=getattr(f, "model_version", "") or None,
        predicted=getattr(f, "predicted", "") or None,
        label=getattr(f, "label", "") or None,
        user=getattr(f, "user", "") or None,
        include_checked=bool(getattr(f, "include_checked", False)),
    )


class ReviewReads:
    """Part of :class:`LabelService`: the reads behind the top-loss queue and the history, and
    the supervisor PIN's hash (kept apart so the review views' additions stay in one place)."""

    _store: Any  # the LabelStore

    def loss_page(self, f: object, limit: int, after: tuple[float, int] | None = None) -> list:
        """One page of the top-loss queue (``f`` has model_version/predicted/label/user)."""
        return self._store.loss_page(_loss_filter(f), limit=limit, after=after)

    def loss_count(self, f: object) -> int:
        return int(self._store.loss_count(_loss_filter(f)))

    def labellers(self) -> list[str]:
        return list(self._store.labellers())

    def model_versions(self) -> list:
        """Model versions registered in the workspace (name, path, status, classes, thresholds)."""
        return list(self._store.model_versions())

    def unscored(self, model_version: str) -> list[str]:
        return list(self._store.unscored(model_version))

    def reviews(self, path: str) -> list:
        """Supervisors' review decisions on the image, oldest first."""
        from inspector.store import UnknownImageError

        try:
            return list(self._store.reviews(path))
        except UnknownImageError:
            return []

    def pin_hash(self) -> str:
        return str(self._store.supervisor_pin_hash())

    def set_pin_hash(self, hashed: str) -> None:
        self._store.set_supervisor_pin_hash(hashed)


class LabelService(ReviewReads):
    def __init__(self, store, user: str, role: str) -> None:
        self._store = store
        self.user = user
        self.role = role

    @classmethod
    def open(cls, workspace: str | os.PathLike[str], user: str, role: str) -> LabelService:
        """Open (or create) the workspace's store; raises an :class:`InspectorError` subclass."""
        from inspector.store import LabelStore

        return cls(LabelStore.open(workspace), user, role)

    @property
    def workspace(self) -> Path:
        return Path(self._store.workspace)

    @property
    def read_only(self) -> bool:
        return bool(self._store.read_only)

    def close(self) -> None:
        self._store.close()

    # -- worker-thread helpers -------------------------------------------------------------------
    def register_model(
        self, version: str, classes: Iterable[str], thresholds: Iterable[float], path: str
    ) -> None:
        """Record the model in use; make it the workspace's active one if there is none."""
        if self.read_only:
            return
        self._store.register_model(
            version, classes=list(classes), thresholds=list(thresholds), path=path
        )
        if self._store.active_model() is None:
            self._store.set_model_status(version, "active")

    def record_predictions(self, preds: list[Prediction]) -> None:
        if preds and not self.read_only:
            self._store.add_predictions(preds, add_images=True)

    def states(self, paths: Iterable[str]) -> dict[str, LabelState]:
        """Current label and status of each known path (unknown paths are left out)."""
        from inspector.store import UnknownImageError

        out: dict[str, LabelState] = {}
        for p in paths:
            try:
                out[p] = LabelState(self._store.labels(p), self._store.status(p))
            except UnknownImageError:
                continue
        return out

    # -- GUI-thread decisions (synchronous: durable before the view moves on) ------------------
    def decide(
        self, path: str, labels: Iterable[str], seen: Prediction | None, reason: str = ""
    ) -> Decision:
        from inspector.store import UnknownImageError

        labels = list(labels)
        kw = {"user": self.user, "role": self.role, "seen": seen, "reason": reason}
        try:
            ev = self._store.set_labels(path, labels, **kw)
        except UnknownImageError:
            self._store.add_image(path, source="gui")
            ev = self._store.set_labels(path, labels, **kw)
        return self._decision(path, ev)

    def undo(self, path: str) -> Decision:
        return self._decision(path, self._store.undo(path, user=self.user, role=self.role))

    def redo(self, path: str) -> Decision:
        return self._decision(path, self._store.redo(path, user=self.user, role=self.role))

    # -- supervisors (issue 11) --------------------------------------------------------------
    def active_thresholds(self, version: str) -> tuple[float, ...] | None:
        """The model version's active threshold revision (None when the store does not know it).

        The hook for "predictions everywhere use the active revision": ``load_predictor`` passes
        it to ``supervision.use_active_thresholds`` so a loaded model labels with it.
        """
        from inspector.store import StoreError

        try:
            rev = self._store.active_thresholds(version)
        except StoreError:
            return None
        return None if rev is None else rev.thresholds

    def supervision(self) -> Supervision:
        """The supervisors' adapter (sign-off queue, reviews, threshold revisions, evaluation)."""
        from inspector.controllers.supervision import Supervision

        return Supervision(self._store, self.user, self.role)

    def _decision(self, path: str, ev) -> Decision:
        return Decision(path, ev.kind, ev.labels, self._store.status(path), ev.user, ev.role)

    # -- datasets (jobs for a worker) ----------------------------------------------------------
    def import_dataset(
        self, paths: list[str], add_classes: bool = True, cancel: CancelFn = never
    ) -> Job[ImportReport]:
        """Import labelled images (ImageFolder, CSV or VOC, detected) as this user: a job.

        Everything is checked first and written in one transaction; cancelling writes nothing.
        """
        from inspector.store.importers import iter_import

        return iter_import(
            self._store,
            paths,
            user=self.user,
            role=self.role or "annotator",
            add_classes=add_classes,
            cancel=cancel,
        )

    def export(self, fmt: str, out: str, cancel: CancelFn = never) -> int:
        """Write the current labels as ``csv``, ``jsonl`` or an ``imagefolder``; rows written."""
        from inspector.store import exporters

        writers = {
            "csv": exporters.export_csv,
            "jsonl": exporters.export_jsonl,
            "imagefolder": exporters.export_imagefolder,
        }
        return int(writers[fmt](self._store, out))

    def backup(self, out: str, cancel: CancelFn = never) -> Path:
        """A consistent copy of the workspace database (safe while others write)."""
        return Path(self._store.backup(out))

    def history(self, path: str) -> list:
        """The image's label events, oldest first (records with .labels, .user, .role, .kind)."""
        from inspector.store import UnknownImageError

        try:
            return list(self._store.history(path))
        except UnknownImageError:
            return []


def open_service(
    workspace: str | os.PathLike[str], user: str, role: str, cancel: CancelFn = never
) -> tuple[LabelService | None, str]:
    """(service, problem): the problem is a one-line message when the store cannot be opened.

    Opening checks the database (``quick_check``: ~0.7 s for 100,000 images), so the window
    runs this in a worker.
    """
    try:
        return LabelService.open(workspace, user, role), ""
    except InspectorError as exc:
        return None, f"labels cannot be saved: {exc}"
    except ImportError as exc:  # the store package is still being built
        log.warning("label store unavailable: %s", exc)
        return None, "labels cannot be saved: the label store is not available in this build"
