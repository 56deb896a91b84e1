"""LabelStore: the workspace's images, append-only label history, predictions and reviews.

A thin facade: each method opens the right transaction (or reads on this thread's connection)
and calls the module that owns the tables involved: ``classes``, ``images``, ``boxes``,
``events`` (label history and current labels), ``predictions`` (model versions and scores),
``reviews``, ``runs``, ``settings``; ``decisions`` sequences the writes that span several;
``queries`` holds the review views' reads; ``maintenance`` checks and backs up.

    store = LabelStore.open("ws")               # creates ws/inspector.db if needed
    img = store.add_image("plates/a.bmp")
    store.set_labels(img, ["crazing"], user="ana").labels      # ('crazing',)
    store.undo(img, user="ana").labels                         # None: unlabelled again
    [e.kind for e in store.history(img)]                       # ['label', 'undo']
    store.page(ImageFilter(status="unlabelled"), limit=200)

Every write is committed (``synchronous=FULL``) before the method returns. Each thread gets
its own SQLite connection, so one store object may be shared by the GUI thread and workers.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from inspector.domain import NEU_CLASSES, LabelStatus, Prediction, Role
from inspector.store import (
    boxes,
    decisions,
    evaluation,
    events,
    images,
    learning,
    loss_queue,
    maintenance,
    opening,
    predictions,
    queries,
    reviews,
    runs,
    settings,
    signoff,
    thresholds,
)
from inspector.store import classes as class_table
from inspector.store.classes import ClassIndex
from inspector.store.connection import ConnectionPool, translate
from inspector.store.errors import StoreError
from inspector.store.images import FileFacts, ImageRef, norm_path
from inspector.store.records import (
    Box,
    CheckReport,
    ClassInfo,
    EventKind,
    ImageRecord,
    ImageRow,
    LabelEvent,
    ModelVersion,
    ReviewDecision,
    ReviewKind,
)

__all__ = ["ImageRef", "LabelStore", "norm_path"]

#: The ``settings`` key of the supervisor PIN's hash.
SUPERVISOR_PIN_KEY = "supervisor_pin"


class LabelStore:
    """One workspace's database. Open with :meth:`open`; use as a context manager or close()."""

    def __init__(self, workspace: Path, pool: ConnectionPool) -> None:
        self.workspace = workspace
        self.path = pool.path
        self._pool = pool

    @classmethod
    def open(
        cls,
        workspace: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        create: bool = True,
        classes: Iterable[str] = NEU_CLASSES,
    ) -> LabelStore:
        """Open (or create, seeded with ``classes``) the workspace; migrate an older schema.

        ``workspace=None`` means ``$INSPECTOR_WORKSPACE`` or the per-user data folder; a path
        to an existing file opens that database (a backup, say). A workspace whose folder
        cannot be written is opened read-only automatically; writes then raise
        :class:`ReadOnlyWorkspaceError`. A file that is empty, not SQLite, or damaged is never
        written to (see :mod:`inspector.store.opening`).
        """
        ws, pool = opening.open_pool(
            workspace, read_only=read_only, create=create, class_names=tuple(classes)
        )
        return cls(ws, pool)

    # -- connections and transactions ----------------------------------------------------------
    @property
    def read_only(self) -> bool:
        return self._pool.read_only

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit: each read sees the latest committed state)."""
        return self._pool.conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (durable), SQLite errors made user-readable.

        For jobs that write many rows at once (imports): inside, call the table modules'
        functions with the connection, never raw SQL.
        """
        try:
            with self._pool.write() as conn:
                yield conn
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    @contextmanager
    def snapshot(self) -> Iterator[Self]:
        """Every read inside the block (on this thread) sees one committed state.

        ``with store.snapshot(): rows, n = store.page(f), store.count(f)`` gives a page and a
        count that agree with each other, whatever other threads or processes write meanwhile.
        """
        with self._pool.snapshot():
            yield self

    def _classes(self) -> ClassIndex:
        # Read afresh each time: another process (or thread) may have renamed or added a class.
        return ClassIndex(self._conn)

    # -- classes -------------------------------------------------------------------------------
    def classes(self) -> list[str]:
        """The active (not merged) class names, in order."""
        return self._classes().active_names()

    def class_infos(self) -> list[ClassInfo]:
        return self._classes().infos()

    def add_class(self, name: str) -> ClassInfo:
        """Append a class; its name must be usable as a folder name (no separators, not ..)."""
        with self.transaction() as conn:
            cid = class_table.insert(conn, name)
        return next(c for c in self.class_infos() if c.id == cid)

    def rename_class(self, old: str, new: str) -> None:
        """Rename a class; labels are stored by id, so the whole history follows."""
        with self.transaction() as conn:
            class_table.rename(conn, old, new)

    def merge_classes(
        self, source: str, target: str, *, user: str, role: str = Role.SUPERVISOR
    ) -> int:
        """Merge ``source`` into ``target`` (a ``merge`` event per image); return how many."""
        with self.transaction() as conn:
            return decisions.merge(conn, source, target, user=user, role=str(role))

    # -- images --------------------------------------------------------------------------------
    def image_id(self, image: ImageRef) -> int:
        """The id of an image given its id or path; :class:`UnknownImageError` otherwise."""
        return images.image_id(self._conn, image)

    def add_image(
        self,
        path: str | os.PathLike[str],
        *,
        sha256: str | None = None,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        source: str = "",
        missing: bool | None = None,
    ) -> int:
        """Add one image (or return the id it already has). Bulk adds go through the importers."""
        p = norm_path(path)
        if missing is None:
            missing = not os.path.exists(p)
        facts = FileFacts(sha256, size, width, height, missing)
        with self.transaction() as conn:
            return images.insert_image(conn, p, facts, source)

    def image(self, image: ImageRef) -> ImageRecord:
        return images.record(self._conn, image)

    def refresh_missing(self) -> int:
        """Re-check every image file on disk; return how many are missing now."""
        changes = images.refresh_missing(self._conn)  # stats outside the write transaction
        if changes:
            with self.transaction() as conn:
                images.set_missing(conn, changes)
        return images.count_missing(self._conn)

    def boxes(self, image: ImageRef) -> list[Box]:
        """The image's bounding boxes (from Pascal VOC imports), in import order."""
        return boxes.of_image(self._conn, self.image_id(image), self._classes())

    # -- label decisions -----------------------------------------------------------------------
    def set_labels(
        self,
        image: ImageRef,
        labels: Iterable[str],
        *,
        user: str,
        role: str = Role.ANNOTATOR,
        reason: str = "",
        seen: Prediction | None = None,
    ) -> LabelEvent:
        """Record a person's full multi-label decision (``[]`` = no defect) for one image.

        ``seen`` is the prediction shown when they decided; it decides whether the label counts
        as *confirmed* (same labels as the model) or *corrected*. Durable when this returns.
        """
        names = [labels] if isinstance(labels, str) else list(labels)
        with self.transaction() as conn:
            eid = decisions.set_labels(
                conn, image, names, user=user, role=str(role), reason=reason, seen=seen
            )
        return events.event(self._conn, eid, self._classes())

    def undo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Undo ``user``'s own last decision: an ``undo`` event that restores the one before.

        Refused (:class:`NotYourDecisionError`) when the current decision is a colleague's
        (made since), or a supervisor approved it: undo never throws another person's work away.
        """
        return self._undo_redo(image, EventKind.UNDO, user, str(role), reason)

    def redo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Re-apply ``user``'s last undone decision (a ``redo`` event); a new decision clears
        redo."""
        return self._undo_redo(image, EventKind.REDO, user, str(role), reason)

    def _undo_redo(
        self, image: ImageRef, kind: EventKind, user: str, role: str, reason: str
    ) -> LabelEvent:
        with self.transaction() as conn:
            eid = decisions.undo_redo(conn, image, kind, user=user, role=role, reason=reason)
        return events.event(self._conn, eid, self._classes())

    def labels(self, image: ImageRef) -> tuple[str, ...] | None:
        """The current human label (``()`` = no defect, ``None`` = unlabelled)."""
        ids, _ = events.current_state(self._conn, self.image_id(image))
        return self._classes().names_of(ids)

    def status(self, image: ImageRef) -> LabelStatus:
        return events.current_status(self._conn, self.image_id(image))

    def history(self, image: ImageRef) -> list[LabelEvent]:
        """Every label event of one image, oldest first."""
        return events.history(self._conn, self.image_id(image), self._classes())

    def iter_events(self, batch: int = 5000) -> Iterator[tuple[str, LabelEvent]]:
        """(image path, event) for the whole history, oldest first, in batches (for exports)."""
        return events.iter_events(self._conn, self._classes(), batch)

    # -- supervisor review ---------------------------------------------------------------------
    def review(
        self,
        image: ImageRef,
        decision: ReviewKind | str,
        *,
        user: str,
        reason: str = "",
        labels: Iterable[str] | None = None,
    ) -> ReviewDecision:
        """``approve`` the current label, or ``override`` it with labels and a reason.

        Either way the image leaves the low-confidence queue; an override is also a label event
        (role supervisor), so the history shows who changed what.
        """
        with self.transaction() as conn:
            return decisions.review(conn, image, decision, user=user, reason=reason, labels=labels)

    def reviews(self, image: ImageRef) -> list[ReviewDecision]:
        """Every review decision on one image, oldest first."""
        return reviews.of_image(self._conn, self.image_id(image))

    # -- model versions and predictions --------------------------------------------------------
    def register_model(
        self,
        name: str,
        *,
        classes: Iterable[str],
        thresholds: Iterable[float],
        path: str = "",
        metrics: dict | None = None,
        parent: str | None = None,
        status: str = "candidate",
    ) -> ModelVersion:
        """Record a model version (idempotent; an existing one only gets path/metrics updated)."""
        with self.transaction() as conn:
            predictions.register(
                conn,
                name,
                classes,
                thresholds,
                path=path,
                metrics=metrics,
                parent=parent,
                status=status,
            )
        return self.model_version(name)

    def set_model_status(self, name: str, status: str) -> None:
        """candidate | active | retired; activating one retires the previously active model."""
        with self.transaction() as conn:
            predictions.set_status(conn, name, status)

    def model_version(self, name: str) -> ModelVersion:
        mid = predictions.model_id(self._conn, name)
        return predictions.models(self._conn)[mid]

    def model_versions(self) -> list[ModelVersion]:
        return list(predictions.models(self._conn).values())

    def active_model(self) -> ModelVersion | None:
        mid = predictions.active_model_id(self._conn)
        return None if mid is None else predictions.models(self._conn)[mid]

    def add_predictions(
        self, preds: Iterable[Prediction], *, flags: str = "", add_images: bool = False
    ) -> int:
        """Store predictions (one transaction); each must name a registered model version.

        A model version not registered yet is registered as a candidate from the first
        prediction's classes and thresholds. Unknown image paths raise unless ``add_images``.
        """
        n = 0
        with self.transaction() as conn:
            idx = ClassIndex(conn)
            band, none_band = predictions.bands(conn)
            cache: dict[str, tuple[int, ModelVersion]] = {}
            for pred in preds:
                name = pred.model_version or "unknown"
                if name not in cache:
                    mid = predictions.register(conn, name, pred.classes, pred.thresholds)
                    cache[name] = (mid, predictions.models(conn)[mid])
                mid, mv = cache[name]
                if add_images:
                    p = norm_path(pred.path)
                    facts = FileFacts(missing=not os.path.exists(p))
                    iid = images.insert_image(conn, p, facts, "predict")
                else:
                    iid = images.image_id(conn, pred.path)
                current = events.current_state(conn, iid)
                predictions.upsert(conn, iid, mid, mv, pred, idx, band, none_band, current, flags)
                n += 1
        return n

    def prediction(self, image: ImageRef, model_version: str | None = None) -> Prediction | None:
        """The stored prediction of one model (default: the active one) for an image."""
        conn = self._conn
        mid = (
            predictions.active_model_id(conn)
            if model_version is None
            else predictions.model_id(conn, model_version)
        )
        if mid is None:
            return None
        rec = self.image(image)
        row = predictions.stored(conn, rec.id, mid)
        if row is None:
            return None
        probs, unfamiliar, unfamiliar_threshold = row
        mv = predictions.models(conn)[mid]
        return Prediction(
            rec.path,
            mv.classes,
            tuple(probs),
            mv.thresholds,
            mv.name,
            unfamiliar=unfamiliar,
            unfamiliar_threshold=unfamiliar_threshold,
        )

    def set_low_confidence_bands(self, band: float, none_over_band: float) -> int:
        """Configure the low-confidence queue (bands in log-odds, see
        :func:`inspector.store.scoring.doubt`); rescores all stored predictions (one
        transaction)."""
        top = predictions.MAX_BAND
        if not (0 < band <= top and 0 < none_over_band <= top):
            raise StoreError(f"bands must be above 0 and at most {top:g} (log-odds)")
        with self.transaction() as conn:
            return predictions.set_bands(conn, band, none_over_band)

    # -- training runs -------------------------------------------------------------------------
    def start_training_run(self, *, params: dict | None = None, parent: str | None = None) -> int:
        with self.transaction() as conn:
            return runs.start(conn, params=params, parent=parent)

    def finish_training_run(
        self,
        run_id: int,
        *,
        status: str = "done",
        metrics: dict | None = None,
        model_version: str | None = None,
    ) -> None:
        with self.transaction() as conn:
            runs.finish(conn, run_id, status=status, metrics=metrics, model_version=model_version)

    def training_runs(self) -> list[dict]:
        return runs.all_runs(self._conn)

    # -- the learning loop (see inspector.store.learning) ----------------------------------------
    def learning_sources(self) -> tuple[list, dict[int, str]]:
        """Every labelled image (id, path, sha256, labels, unusable) and the evaluation set,
        read from one committed state."""
        with self._pool.snapshot() as conn:
            return learning.labelled_rows(conn), learning.evaluation_set(conn)

    def evaluation_set(self) -> dict[int, str]:
        """image id -> the class it was drawn for (chosen once, only ever grows)."""
        return learning.evaluation_set(self._conn)

    def freeze_snapshot(
        self,
        items: list[learning.SnapshotItem],
        eval_additions: dict[int, str],
        *,
        run_id: int | None,
        parent: str | None,
        summary: dict,
    ) -> learning.Snapshot:
        """Grow the evaluation set and freeze a data snapshot, in one transaction."""
        with self.transaction() as conn:
            learning.add_to_evaluation_set(conn, eval_additions)
            sid = learning.insert_snapshot(
                conn, items, run_id=run_id, parent=parent, summary=summary
            )
        return learning.snapshot(self._conn, sid)

    def data_snapshot(self, snapshot_id: int) -> learning.Snapshot:
        return learning.snapshot(self._conn, snapshot_id)

    def latest_snapshot_id(self) -> int | None:
        return learning.latest_snapshot_id(self._conn)

    def snapshot_of_run(self, run_id: int) -> int | None:
        return learning.snapshot_of_run(self._conn, run_id)

    def register_candidate(
        self,
        candidate: dict,
        *,
        run_id: int,
        run_metrics: dict,
        parent: dict | None = None,
    ) -> None:
        """One transaction: the parent (if unknown: the version that was in use), the candidate,
        and the run marked done. A crash before it leaves none of them; after it, all."""
        with self.transaction() as conn:
            if parent is not None:
                if predictions.active_model_id(conn) is None:
                    parent = {**parent, "status": "active"}
                predictions.register(conn, **parent)
            predictions.register(conn, **candidate)
            runs.finish(
                conn, run_id, status="done", metrics=run_metrics, model_version=candidate["name"]
            )

    def decide_model(self, name: str, action: str, status: str, **decision) -> int:
        """Set a version's status and record the decision (promote | rollback | discard |
        import, who, why, the gate's verdict) in one transaction."""
        with self.transaction() as conn:
            active = predictions.active_model_id(conn)
            previous = None if active is None else predictions.models(conn)[active].name
            predictions.set_status(conn, name, status)
            return learning.record_decision(
                conn, model_version=name, action=action, previous_active=previous, **decision
            )

    def model_decisions(self) -> list[dict]:
        return learning.decisions(self._conn)

    def running_training_runs(self) -> list[tuple[int, dict]]:
        return learning.stale_runs(self._conn)

    # -- the review views' reads ---------------------------------------------------------------
    def page(
        self,
        filt: queries.ImageFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        after_id: int | None = None,
    ) -> list[ImageRow]:
        """One page of images in id order; see :class:`~inspector.store.queries.ImageFilter`."""
        return queries.page(
            self._conn, filt or queries.ImageFilter(), limit=limit, offset=offset, after_id=after_id
        )

    def count(self, filt: queries.ImageFilter | None = None) -> int:
        return queries.count(self._conn, filt or queries.ImageFilter())

    def top_losses(
        self, *, limit: int = 200, offset: int = 0, model_version: str | None = None
    ) -> list[ImageRow]:
        """Labelled images by descending BCE of the (active) model against the human label."""
        return queries.top_losses(
            self._conn, limit=limit, offset=offset, model_version=model_version
        )

    def loss_page(
        self,
        filt: loss_queue.LossFilter | None = None,
        *,
        limit: int = 100,
        after: tuple[float, int] | None = None,
    ) -> list[loss_queue.LossRow]:
        """The annotators' top-loss queue, keyset-paged (see :mod:`~inspector.store.loss_queue`)."""
        return loss_queue.loss_page(
            self._conn, filt or loss_queue.LossFilter(), limit=limit, after=after
        )

    def loss_count(self, filt: loss_queue.LossFilter | None = None) -> int:
        return loss_queue.loss_count(self._conn, filt or loss_queue.LossFilter())

    def labellers(self) -> list[str]:
        """Everyone who made an image's current label."""
        return loss_queue.labellers(self._conn)

    def unscored(self, model_version: str) -> list[str]:
        """Labelled, readable images without a prediction of ``model_version`` (to re-score)."""
        return loss_queue.unscored(self._conn, model_version)

    def low_confidence(
        self, *, limit: int = 200, offset: int = 0, model_version: str | None = None
    ) -> list[ImageRow]:
        """Unreviewed images whose (active) prediction is near a threshold, most doubtful first."""
        return queries.low_confidence(
            self._conn, limit=limit, offset=offset, model_version=model_version
        )

    def class_counts(self) -> dict[str, int]:
        """Images currently labelled with each class, plus ``"no defect"`` and ``"unlabelled"``."""
        return queries.class_counts(self._conn)

    def training_snapshot(
        self, *, include_missing: bool = False
    ) -> list[tuple[str, tuple[str, ...]]]:
        """(path, labels) of every labelled image, read from one consistent snapshot."""
        with self._pool.snapshot() as conn:
            return queries.labelled(conn, include_missing=include_missing)

    # -- settings --------------------------------------------------------------------------------
    def supervisor_pin_hash(self) -> str:
        """The supervisor PIN's salted hash ('' when no PIN is set); never the PIN itself."""
        return settings.get(self._conn, SUPERVISOR_PIN_KEY) or ""

    def set_supervisor_pin_hash(self, hashed: str) -> None:
        """Store a hash made by ``controllers.roles.hash_pin`` ('' removes the PIN)."""
        with self.transaction() as conn:
            settings.put(conn, SUPERVISOR_PIN_KEY, hashed)

    # -- maintenance ---------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return maintenance.counts(self._conn)

    def check(self) -> CheckReport:
        """``PRAGMA integrity_check``, the schema version and row counts (a damaged file is
        reported, not raised)."""
        return maintenance.check(self._conn, self.path)

    def backup(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the database as one consistent snapshot (see :func:`maintenance.backup`)."""
        return maintenance.backup(self._conn, self.path, dest)

    # -- supervisors: threshold revisions, the sign-off queue, evaluation reads ----------------
    def threshold_revisions(self, model_version: str) -> list[thresholds.ThresholdRevision]:
        """Every threshold revision of a model version, oldest first (revision 1 = the card)."""
        return thresholds.of_model(self._conn, predictions.model_id(self._conn, model_version))

    def active_thresholds(self, model_version: str) -> thresholds.ThresholdRevision | None:
        """The latest (active) threshold revision of a model version; None if none is stored."""
        return thresholds.latest(self._conn, predictions.model_id(self._conn, model_version))

    def add_threshold_revision(
        self,
        model_version: str,
        new: Iterable[float],
        *,
        user: str,
        role: str,
        reason: str = "",
    ) -> thresholds.ThresholdRevision:
        """Append a threshold revision, make it active and re-flag the model's predictions.

        One transaction: the revision, the model's active thresholds, every stored prediction's
        predicted classes and doubt. Callers check the role (``controllers.roles.require``).
        """
        values = [float(t) for t in new]
        if not all(0.0 < t < 1.0 for t in values):
            raise StoreError("thresholds must be between 0 and 1")
        with self.transaction() as conn:
            mid = predictions.model_id(conn, model_version)
            mv = predictions.models(conn)[mid]
            if len(values) != len(mv.classes):
                raise StoreError(
                    f"model {model_version!r} has {len(mv.classes)} classes, "
                    f"not {len(values)} thresholds"
                )
            thresholds.append(
                conn, mid, values, list(mv.thresholds), user=user, role=role, reason=reason
            )
            band, none_band = predictions.bands(conn)
            ids = ClassIndex(conn).model_ids(mv.classes)
            predictions.set_thresholds(conn, mid, values, ids, band, none_band)
        rev = self.active_thresholds(model_version)
        assert rev is not None
        return rev

    def flag_heatmap(self, image: ImageRef, model_version: str, edge: bool) -> bool:
        """Record whether the image's heatmap looks at the edges (flagged: into the queue)."""
        with self.transaction() as conn:
            band, none_band = predictions.bands(conn)
            return predictions.set_flag(
                conn,
                images.image_id(conn, image),
                predictions.model_id(conn, model_version),
                predictions.EDGE_FLAG,
                edge,
                band,
                none_band,
            )

    def low_confidence_bands(self) -> tuple[float, float]:
        """(band around a threshold, "none over" band) of the low-confidence rule."""
        return predictions.bands(self._conn)

    def signoff_queue(
        self, filt: signoff.QueueFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[signoff.QueueItem]:
        """Doubtful label decisions not yet signed off, most doubtful first."""
        return signoff.page(self._conn, filt or signoff.QueueFilter(), limit=limit, offset=offset)

    def signoff_count(self, filt: signoff.QueueFilter | None = None) -> int:
        return signoff.count(self._conn, filt or signoff.QueueFilter())

    def decision_makers(self) -> list[str]:
        """Everyone who made any label decision (the sign-off queue's user filter)."""
        return signoff.labellers(self._conn)

    def signoff_log(
        self, since: str | None = None, until: str | None = None
    ) -> list[signoff.LogRow]:
        """Review decisions (approvals, overrides) made in ``[since, until)``, oldest first."""
        return signoff.log(self._conn, since, until)

    def scored(
        self,
        model_version: str | None = None,
        image_set: str = "all",
        since: str | None = None,
        until: str | None = None,
    ):
        """(classes, y, p) of a model version on an image set (see :mod:`.evaluation`)."""
        with self._pool.snapshot() as conn:
            return evaluation.scored(conn, model_version, image_set, since, until)
