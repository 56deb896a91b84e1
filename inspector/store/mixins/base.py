"""What every part of the store needs: its connections, write transactions, class and image
lookups, and appending a label event with the active model's view of it.

Not used on its own: :class:`~inspector.store.LabelStore` combines it with the mixins.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

from inspector.store import events, images, predictions
from inspector.store.classes import ClassIndex
from inspector.store.connection import ConnectionPool, translate
from inspector.store.events import Seen


class StoreBase:
    """One workspace's database: ``workspace`` folder, ``path`` of the file, a connection pool."""

    def __init__(self, workspace: Path, pool: ConnectionPool) -> None:
        self.workspace = workspace
        self.path = pool.path
        self._pool = pool

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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (durable), with SQLite errors made user-readable."""
        try:
            with self._pool.write() as conn:
                yield conn
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None

    def bulk_write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction for importers (see :mod:`inspector.store.importers`)."""
        return self._write()

    @contextmanager
    def snapshot(self) -> Iterator[Self]:
        """Every read inside the block (on this thread) sees one committed state.

        >>> with store.snapshot():                              # doctest: +SKIP
        ...     rows, n = store.page(f), store.count(f)         # consistent with each other
        """
        with self._pool.snapshot():
            yield self

    def _classes(self, conn: sqlite3.Connection | None = None) -> ClassIndex:
        # Read afresh each time: another process (or thread) may have renamed or added a class.
        return ClassIndex(conn or self._conn)

    def image_id(self, image: images.ImageRef) -> int:
        """The id of an image given its id or path; :class:`UnknownImageError` otherwise."""
        return images.image_id(self._conn, image)

    @staticmethod
    def _append_event(
        conn: sqlite3.Connection,
        idx: ClassIndex,
        image_id: int,
        kind: str,
        ids: list[int] | None,
        *,
        user: str,
        role: str,
        reason: str = "",
        reverts: int | None = None,
        seen: Seen | None = None,
    ) -> int:
        """Append one event inside ``conn``'s transaction, rescoring the image's predictions."""
        return events.append(
            conn,
            image_id,
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
