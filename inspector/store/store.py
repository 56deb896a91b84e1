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

This module only opens a workspace; the methods live in :mod:`inspector.store.mixins`, one
module per job (classes, images, labels, models, runs, review, queries, maintenance).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable

from inspector.domain import NEU_CLASSES
from inspector.store import opening
from inspector.store.connection import ConnectionPool, translate
from inspector.store.errors import ReadOnlyWorkspaceError, StoreError
from inspector.store.images import ImageRef, norm_path
from inspector.store.migrations import SCHEMA_VERSION, migrate, schema_version
from inspector.store.mixins.classes import ClassesMixin
from inspector.store.mixins.images import ImagesMixin
from inspector.store.mixins.labels import LabelsMixin
from inspector.store.mixins.maintenance import MaintenanceMixin
from inspector.store.mixins.models import ModelsMixin
from inspector.store.mixins.queries import QueriesMixin
from inspector.store.mixins.review import ReviewMixin
from inspector.store.mixins.runs import RunsMixin
from inspector.store.workspace import DB_NAME, resolve_workspace

__all__ = ["ImageRef", "LabelStore", "norm_path"]


class LabelStore(
    ClassesMixin,
    ImagesMixin,
    LabelsMixin,
    ModelsMixin,
    RunsMixin,
    ReviewMixin,
    QueriesMixin,
    MaintenanceMixin,
):
    """One workspace's database. Open with :meth:`open`; use as a context manager or close()."""

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
            opening.check_file(db)
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
            opening.create(db, classes)
        pool = ConnectionPool(db, read_only=read_only)
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
                opening.check_integrity(conn, db)  # never write into a damaged file
                migrate(conn, db)
                opening.seed_classes(conn, classes)  # a workspace left without them
        except sqlite3.Error as exc:
            pool.close()
            raise translate(exc, db) from None
        except BaseException:
            pool.close()
            raise
        return cls(ws, pool)
