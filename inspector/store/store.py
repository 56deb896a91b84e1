"""LabelStore: the workspace's images, append-only label history, predictions and reviews.

>>> from inspector.store import LabelStore, ImageFilter
>>> store = LabelStore.open("ws")                      # creates ws/inspector.db if needed
>>> img = store.add_image("plates/a.bmp")
>>> store.set_labels(img, ["crazing"], user="ana").labels
('crazing',)
>>> store.undo(img, user="ana").labels is None        # back to unlabelled, as a new event
True
>>> [e.kind for e in store.history(img)]
['label', 'undo']
>>> store.page(ImageFilter(status="unlabelled"), limit=200)   # doctest: +SKIP

Every write is committed (``synchronous=FULL``) before the method returns. Each thread gets
its own SQLite connection, so one store object may be shared by the GUI thread and workers.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType

from inspector.domain import NEU_CLASSES, LabelStatus, Prediction, Role
from inspector.store import events, predictions, queries
from inspector.store.classes import ClassIndex
from inspector.store.connection import ConnectionPool, translate
from inspector.store.errors import (
    NotADatabaseError,
    ReadOnlyWorkspaceError,
    StoreError,
    UnknownClassError,
    UnknownImageError,
)
from inspector.store.events import Seen
from inspector.store.migrations import SCHEMA_VERSION, migrate, schema_version
from inspector.store.records import (
    Box,
    CheckReport,
    ClassInfo,
    ImageRecord,
    ImageRow,
    LabelEvent,
    ModelVersion,
    ReviewDecision,
)
from inspector.store.scoring import MAX_CLASS_ID
from inspector.store.workspace import DB_NAME, resolve_workspace

ImageRef = int | str | os.PathLike[str]

_IMAGE_COLUMNS = "id, path, sha256, size, width, height, added_at, source, missing"
_EVENT_COLUMNS = (
    "id, image_id, kind, labels, user, role, created_at, reason, reverts,"
    " model_version, probabilities, model_labels"
)
_SQLITE_MAGIC = b"SQLite format 3\x00"


def norm_path(path: str | os.PathLike[str]) -> str:
    """How image paths are stored: absolute, not symlink-resolved (a link is its own image)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


class LabelStore:
    """One workspace's database. Open with :meth:`open`; use as a context manager or close()."""

    def __init__(self, workspace: Path, pool: ConnectionPool) -> None:
        self.workspace = workspace
        self.path = pool.path
        self._pool = pool

    # ----------------------------------------------------------------- opening
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
        to an existing file opens that database (a backup, say).
        A workspace whose folder cannot be written is opened read-only automatically; writes
        then raise :class:`ReadOnlyWorkspaceError`.
        """
        ws = resolve_workspace(workspace).absolute()
        db = ws / DB_NAME
        if ws.is_file():  # a database file under another name, e.g. a backup
            ws, db = ws.parent, ws
        if db.exists():
            _check_magic(db)
            if not read_only and not (os.access(db, os.W_OK) and os.access(ws, os.W_OK)):
                read_only = True
        elif read_only or not create:
            raise StoreError(f"no Plate Inspector database in {ws} (expected {db})")
        else:
            try:
                ws.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ReadOnlyWorkspaceError(
                    f"cannot create the workspace {ws}: {exc.strerror}"
                ) from None
            if not os.access(ws, os.W_OK):
                raise ReadOnlyWorkspaceError(
                    f"cannot create a database in {ws}: folder is read-only"
                )
        pool = ConnectionPool(db, read_only=read_only)
        store = cls(ws, pool)
        try:
            conn = pool.conn
            version = schema_version(conn)
            if read_only:
                if version != SCHEMA_VERSION:
                    migrate(conn, db, upto=version)  # raises SchemaTooNewError when newer
                    if version < SCHEMA_VERSION:
                        raise ReadOnlyWorkspaceError(
                            f"{db} has schema {version} and needs migrating to {SCHEMA_VERSION},"
                            " which a read-only workspace cannot do"
                        )
            else:
                fresh = version == 0
                migrate(conn, db)
                if fresh:
                    with pool.write() as w:
                        for name in classes:
                            store._insert_class(w, name)
        except sqlite3.Error as exc:
            pool.close()
            raise translate(exc, db) from None
        except BaseException:
            pool.close()
            raise
        return store

    @property
    def read_only(self) -> bool:
        return self._pool.read_only

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def _conn(self) -> sqlite3.Connection:
        return self._pool.conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._pool.write() as conn:
                yield conn
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    @contextmanager
    def snapshot(self) -> Iterator[LabelStore]:
        """Every read inside the block (on this thread) sees one committed state.

        >>> with store.snapshot():                              # doctest: +SKIP
        ...     rows, n = store.page(f), store.count(f)         # consistent with each other
        """
        with self._pool.snapshot():
            yield self

    # ----------------------------------------------------------------- classes
    def _classes(self, conn: sqlite3.Connection | None = None) -> ClassIndex:
        return ClassIndex(conn or self._conn)

    def classes(self) -> list[str]:
        """The active (not merged) class names, in order."""
        return self._classes().active_names()

    def class_infos(self) -> list[ClassInfo]:
        return self._classes().infos()

    def _insert_class(self, conn: sqlite3.Connection, name: str) -> int:
        name = name.strip()
        if not name:
            raise StoreError("a class name cannot be empty")
        if conn.execute("SELECT 1 FROM classes WHERE name = ?", (name,)).fetchone():
            raise StoreError(f"class {name!r} already exists")
        nxt = conn.execute(
            "SELECT coalesce(max(id), 0) + 1, coalesce(max(position), -1) + 1 FROM classes"
        ).fetchone()
        if nxt[0] > MAX_CLASS_ID:
            raise StoreError(f"a workspace holds at most {MAX_CLASS_ID} classes")
        conn.execute(
            "INSERT INTO classes (id, name, position, added_at) VALUES (?,?,?,?)",
            (nxt[0], name, nxt[1], events.now()),
        )
        return int(nxt[0])

    def add_class(self, name: str) -> ClassInfo:
        with self._write() as conn:
            cid = self._insert_class(conn, name)
        return next(c for c in self.class_infos() if c.id == cid)

    def rename_class(self, old: str, new: str) -> None:
        """Rename a class; labels are stored by id, so the whole history follows."""
        with self._write() as conn:
            idx = self._classes(conn)
            cid = idx.by_name.get(old)
            if cid is None:
                raise UnknownClassError(f"unknown class {old!r}")
            if new in idx.by_name:
                raise StoreError(f"class {new!r} already exists; use merge to combine classes")
            conn.execute("UPDATE classes SET name = ? WHERE id = ?", (new.strip(), cid))

    def merge_classes(
        self, source: str, target: str, *, user: str, role: str = Role.SUPERVISOR
    ) -> int:
        """Merge ``source`` into ``target``; return how many images were relabelled.

        History is not rewritten: each image currently labelled ``source`` gets a new ``merge``
        event with the migrated vector, and ``source`` keeps its id as a pointer to ``target``.
        """
        reason = f"merge {source} into {target}"
        with self._write() as conn:
            idx = self._classes(conn)
            src, dst = idx.id_of(source), idx.id_of(target)
            if src == dst:
                raise StoreError(f"cannot merge {source!r} into itself")
            conn.execute("UPDATE classes SET merged_into = ? WHERE id = ?", (dst, src))
            # Predictions' masks name classes by store id: move the merged bit first, so the
            # merge events below compare against the migrated model labels.
            conn.execute(
                "UPDATE predictions SET pred_mask = (pred_mask & ~?) | ? WHERE pred_mask & ?",
                (1 << src, 1 << dst, 1 << src),
            )
            idx = self._classes(conn)
            mci = predictions.model_class_ids(conn, idx)
            active = predictions.active_model_id(conn)
            rows = conn.execute(
                "SELECT c.image_id, c.labels, e.model_version, e.probabilities, e.model_labels"
                " FROM current_labels c JOIN label_events e ON e.id = c.event_id"
                " WHERE c.label_mask & ?",
                (1 << src,),
            ).fetchall()
            for image_id, labels, mv, probs, mlabels in rows:
                ids = idx.sort_ids(idx.resolve_id(c) for c in json.loads(labels))
                ml = events.loads_ids(mlabels)
                seen = Seen(
                    mv,
                    None if probs is None else json.loads(probs),
                    None if ml is None else idx.sort_ids(idx.resolve_id(c) for c in ml),
                )
                events.append(
                    conn,
                    image_id,
                    "merge",
                    ids,
                    user=user,
                    role=str(role),
                    reason=reason,
                    seen=seen,
                    active_model_id=active,
                    model_class_ids=mci,
                )
        return len(rows)

    # ------------------------------------------------------------------ images
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
        with self._write() as conn:
            return self._insert_image(conn, p, sha256, size, width, height, source, missing)

    @staticmethod
    def _insert_image(
        conn: sqlite3.Connection,
        p: str,
        sha256: str | None,
        size: int | None,
        width: int | None,
        height: int | None,
        source: str,
        missing: bool,
    ) -> int:
        row = conn.execute("SELECT id FROM images WHERE path = ?", (p,)).fetchone()
        if row is not None:
            return int(row[0])
        iid = int(
            conn.execute(
                "INSERT INTO images (path, sha256, size, width, height, added_at, source, missing)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (p, sha256, size, width, height, events.now(), source, int(missing)),
            ).lastrowid
        )
        conn.execute("INSERT INTO current_labels (image_id) VALUES (?)", (iid,))
        return iid

    def image_id(self, image: ImageRef) -> int:
        """The id of an image given its id or path; :class:`UnknownImageError` otherwise."""
        return self._image_id(self._conn, image)

    @staticmethod
    def _image_id(conn: sqlite3.Connection, image: ImageRef) -> int:
        if isinstance(image, int):
            row = conn.execute("SELECT id FROM images WHERE id = ?", (image,)).fetchone()
        else:
            row = conn.execute(
                "SELECT id FROM images WHERE path = ?", (norm_path(image),)
            ).fetchone()
        if row is None:
            raise UnknownImageError(f"image {image} is not in the workspace")
        return int(row[0])

    def image(self, image: ImageRef) -> ImageRecord:
        row = self._conn.execute(
            f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (self.image_id(image),)
        ).fetchone()
        return ImageRecord(*row[:8], missing=bool(row[8]))

    def find_by_sha256(self, sha256: str) -> list[ImageRecord]:
        return [
            ImageRecord(*r[:8], missing=bool(r[8]))
            for r in self._conn.execute(
                f"SELECT {_IMAGE_COLUMNS} FROM images WHERE sha256 = ? ORDER BY id", (sha256,)
            )
        ]

    def refresh_missing(self) -> int:
        """Re-check every image file on disk; return how many are missing now."""
        rows = self._conn.execute("SELECT id, path, missing FROM images").fetchall()
        changes = [
            (int(not os.path.exists(p)), i) for i, p, m in rows if bool(m) == os.path.exists(p)
        ]
        if changes:
            with self._write() as conn:
                conn.executemany("UPDATE images SET missing = ? WHERE id = ?", changes)
        return int(self._conn.execute("SELECT count(*) FROM images WHERE missing").fetchone()[0])

    # ------------------------------------------------------------------ labels
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
        labels = list(labels) if not isinstance(labels, str) else [labels]
        with self._write() as conn:
            idx = self._classes(conn)
            iid = self._image_id(conn, image)
            ids = idx.ids_of(labels)
            s = Seen()
            if seen is not None:
                s = Seen(
                    seen.model_version or None,
                    dict(zip(seen.classes, map(float, seen.probabilities), strict=True)),
                    idx.sort_ids(idx.id_of(c) for c in seen.labels if c in idx.by_name),
                )
            eid = events.append(
                conn,
                iid,
                "label",
                ids,
                user=user,
                role=str(role),
                reason=reason,
                seen=s,
                active_model_id=predictions.active_model_id(conn),
                model_class_ids=predictions.model_class_ids(conn, idx),
            )
        return self._event(eid)

    def _undo_redo(
        self, image: ImageRef, kind: str, user: str, role: str, reason: str
    ) -> LabelEvent:
        with self._write() as conn:
            idx = self._classes(conn)
            iid = self._image_id(conn, image)
            target = events.undo_target if kind == "undo" else events.redo_target
            reverts, ids, seen = target(conn, iid, idx)
            eid = events.append(
                conn,
                iid,
                kind,
                ids,
                user=user,
                role=str(role),
                reason=reason,
                reverts=reverts,
                seen=seen,
                active_model_id=predictions.active_model_id(conn),
                model_class_ids=predictions.model_class_ids(conn, idx),
            )
        return self._event(eid)

    def undo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Undo the last decision: append an ``undo`` event that restores the one before."""
        return self._undo_redo(image, "undo", user, role, reason)

    def redo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Re-apply the last undone decision (a ``redo`` event); a new decision clears redo."""
        return self._undo_redo(image, "redo", user, role, reason)

    def labels(self, image: ImageRef) -> tuple[str, ...] | None:
        """The current human label (``()`` = no defect, ``None`` = unlabelled)."""
        row = self._conn.execute(
            "SELECT labels FROM current_labels WHERE image_id = ?", (self.image_id(image),)
        ).fetchone()
        return self._classes().names_of(events.loads_ids(row[0]) if row else None)

    def status(self, image: ImageRef) -> LabelStatus:
        row = self._conn.execute(
            "SELECT status FROM current_labels WHERE image_id = ?", (self.image_id(image),)
        ).fetchone()
        return LabelStatus(row[0]) if row else LabelStatus.UNLABELLED

    def _to_event(self, row: tuple, idx: ClassIndex) -> LabelEvent:
        (eid, iid, kind, labels, user, role, created, reason, reverts, mv, probs, mlabels) = row
        return LabelEvent(
            eid,
            iid,
            kind,
            idx.names_of(events.loads_ids(labels)),
            user,
            role,
            created,
            reason,
            reverts,
            mv,
            None if probs is None else json.loads(probs),
            idx.names_of(events.loads_ids(mlabels)),
        )

    def _event(self, event_id: int) -> LabelEvent:
        row = self._conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM label_events WHERE id = ?", (event_id,)
        ).fetchone()
        return self._to_event(row, self._classes())

    def history(self, image: ImageRef) -> list[LabelEvent]:
        """Every label event of one image, oldest first."""
        idx = self._classes()
        return [
            self._to_event(r, idx)
            for r in self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM label_events WHERE image_id = ? ORDER BY id",
                (self.image_id(image),),
            )
        ]

    def iter_events(self, batch: int = 5000) -> Iterator[tuple[str, LabelEvent]]:
        """(image path, event) for the whole history, oldest first, in batches (for exports)."""
        idx = self._classes()
        last = 0
        while True:
            rows = self._conn.execute(
                f"SELECT i.path, {', '.join('e.' + c.strip() for c in _EVENT_COLUMNS.split(','))}"
                " FROM label_events e JOIN images i ON i.id = e.image_id WHERE e.id > ?"
                " ORDER BY e.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield r[0], self._to_event(r[1:], idx)
            last = rows[-1][1]

    # ------------------------------------------------------- models, predictions
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
        with self._write() as conn:
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
        with self._write() as conn:
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
        with self._write() as conn:
            idx = self._classes(conn)
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
                    iid = self._insert_image(
                        conn, p, None, None, None, None, "predict", not os.path.exists(p)
                    )
                else:
                    iid = self._image_id(conn, pred.path)
                predictions.upsert(conn, iid, mid, mv, pred, idx, band, none_band, flags)
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
        row = conn.execute(
            "SELECT probabilities FROM predictions WHERE image_id = ? AND model_id = ?",
            (self.image_id(image), mid),
        ).fetchone()
        if row is None:
            return None
        mv = predictions.models(conn)[mid]
        return Prediction(
            self.image(image).path, mv.classes, tuple(json.loads(row[0])), mv.thresholds, mv.name
        )

    def set_low_confidence_bands(self, band: float, none_over_band: float) -> int:
        """Configure the low-confidence queue; rescores all stored predictions (one transaction)."""
        if not (0 < band < 1 and 0 < none_over_band < 1):
            raise StoreError("bands must be between 0 and 1")
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)",
                [("low_conf_band", str(band)), ("none_over_band", str(none_over_band))],
            )
            return predictions.rescore_doubt(conn, band, none_over_band)

    # ------------------------------------------------------------------ review
    def review(
        self,
        image: ImageRef,
        decision: str,
        *,
        user: str,
        reason: str = "",
        labels: Iterable[str] | None = None,
    ) -> ReviewDecision:
        """A supervisor's decision on the current label: ``approve``, or ``override`` with labels.

        An override appends a label event (role supervisor, the reason as comment) first, so the
        history shows who changed what. Either way the image leaves the low-confidence queue.
        """
        if decision not in ("approve", "override"):
            raise StoreError(f"decision must be 'approve' or 'override', not {decision!r}")
        if decision == "override" and labels is None:
            raise StoreError("an override needs the labels the supervisor chose")
        if decision == "override" and not reason.strip():
            raise StoreError("an override needs a reason")
        with self._write() as conn:
            idx = self._classes(conn)
            iid = self._image_id(conn, image)
            if decision == "override":
                events.append(
                    conn,
                    iid,
                    "label",
                    idx.ids_of(list(labels or [])),
                    user=user,
                    role=Role.SUPERVISOR.value,
                    reason=reason,
                    active_model_id=predictions.active_model_id(conn),
                    model_class_ids=predictions.model_class_ids(conn, idx),
                )
            ev = conn.execute(
                "SELECT event_id FROM current_labels WHERE image_id = ?", (iid,)
            ).fetchone()
            did = int(
                conn.execute(
                    "INSERT INTO review_decisions (image_id, event_id, decision, reason, user,"
                    " created_at) VALUES (?,?,?,?,?,?)",
                    (iid, ev[0] if ev else None, decision, reason, user, events.now()),
                ).lastrowid
            )
            conn.execute("UPDATE current_labels SET reviewed = 1 WHERE image_id = ?", (iid,))
            conn.execute("UPDATE predictions SET reviewed = 1 WHERE image_id = ?", (iid,))
            row = conn.execute(
                "SELECT id, image_id, event_id, decision, reason, user, created_at"
                " FROM review_decisions WHERE id = ?",
                (did,),
            ).fetchone()
        return ReviewDecision(*row)

    def reviews(self, image: ImageRef) -> list[ReviewDecision]:
        return [
            ReviewDecision(*r)
            for r in self._conn.execute(
                "SELECT id, image_id, event_id, decision, reason, user, created_at"
                " FROM review_decisions"
                " WHERE image_id = ? ORDER BY id",
                (self.image_id(image),),
            )
        ]

    # ------------------------------------------------------------------ queries
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

    # ------------------------------------------------------------------- boxes
    def boxes(self, image: ImageRef) -> list[Box]:
        idx = self._classes()
        iid = self.image_id(image)
        return [
            Box(iid, idx.by_id[c][0], *rest)
            for c, *rest in self._conn.execute(
                "SELECT class_id, xmin, ymin, xmax, ymax, source FROM boxes WHERE image_id = ?"
                " ORDER BY id",
                (iid,),
            )
        ]

    # ----------------------------------------------------------- training runs
    def start_training_run(self, *, params: dict | None = None, parent: str | None = None) -> int:
        with self._write() as conn:
            return int(
                conn.execute(
                    "INSERT INTO training_runs (parent, params, started_at) VALUES (?,?,?)",
                    (parent, json.dumps(params or {}), events.now()),
                ).lastrowid
            )

    def finish_training_run(
        self,
        run_id: int,
        *,
        status: str = "done",
        metrics: dict | None = None,
        model_version: str | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE training_runs SET status = ?, metrics = ?, model_version = ?,"
                " finished_at = ? WHERE id = ?",
                (status, json.dumps(metrics or {}), model_version, events.now(), run_id),
            )

    def training_runs(self) -> list[dict]:
        cols = (
            "id",
            "model_version",
            "parent",
            "status",
            "params",
            "metrics",
            "started_at",
            "finished_at",
        )
        out = []
        for r in self._conn.execute(f"SELECT {', '.join(cols)} FROM training_runs ORDER BY id"):
            d = dict(zip(cols, r, strict=True))
            d["params"], d["metrics"] = json.loads(d["params"]), json.loads(d["metrics"])
            out.append(d)
        return out

    # ------------------------------------------------------------- maintenance
    def counts(self) -> dict[str, int]:
        c = self._conn
        one = lambda sql: int(c.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "images": one("SELECT count(*) FROM images"),
            "missing images": one("SELECT count(*) FROM images WHERE missing"),
            "labelled images": one("SELECT count(*) FROM current_labels WHERE labels IS NOT NULL"),
            "label events": one("SELECT count(*) FROM label_events"),
            "classes": one("SELECT count(*) FROM classes WHERE merged_into IS NULL"),
            "predictions": one("SELECT count(*) FROM predictions"),
            "model versions": one("SELECT count(*) FROM model_versions"),
            "review decisions": one("SELECT count(*) FROM review_decisions"),
            "boxes": one("SELECT count(*) FROM boxes"),
        }

    def check(self) -> CheckReport:
        """``PRAGMA integrity_check``, the schema version and row counts."""
        try:
            rows = self._conn.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            raise translate(exc, self.path) from None
        integrity = "ok" if rows == [("ok",)] else "; ".join(r[0] for r in rows[:20])
        return CheckReport(
            str(self.path), integrity, schema_version(self._conn), SCHEMA_VERSION, self.counts()
        )

    def backup(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the live database with SQLite's online backup API (safe while others write).

        Writes ``dest`` through a temporary file and renames it, so a failed backup never leaves
        a truncated file under the requested name.
        """
        out = Path(dest).expanduser()
        if out.is_dir():
            out = out / DB_NAME
        if out.resolve() == self.path.resolve():
            raise StoreError("the backup file must not be the workspace database itself")
        tmp = out.with_name(out.name + ".part")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.unlink(missing_ok=True)
            dst = sqlite3.connect(tmp)
            try:
                self._conn.backup(dst, pages=4096)
                ok = dst.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                dst.close()
            if ok != "ok":
                raise StoreError(f"backup copy failed its check: {ok}")
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write the backup {out}: {exc.strerror or exc}") from None
        except sqlite3.Error as exc:
            tmp.unlink(missing_ok=True)
            raise translate(exc, out) from None
        return out

    # ---------------------------------------------------------------- bulk import
    def bulk_write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction for importers (see :mod:`inspector.store.importers`)."""
        return self._write()


def _check_magic(db: Path) -> None:
    """Refuse a file that is not SQLite before SQLite tries (and maybe writes a WAL beside it)."""
    try:
        with db.open("rb") as f:
            head = f.read(16)
    except PermissionError:
        raise ReadOnlyWorkspaceError(f"cannot read {db}: permission denied") from None
    except OSError as exc:
        raise StoreError(f"cannot read {db}: {exc.strerror or exc}") from None
    if head and head != _SQLITE_MAGIC:
        raise NotADatabaseError(f"{db} is not a Plate Inspector database (not an SQLite file)")
