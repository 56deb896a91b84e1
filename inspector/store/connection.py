"""SQLite connections: one per thread, WAL, ``synchronous=FULL``, a busy timeout.

SQLite connections must not be shared between threads, and the GUI thread, worker threads and
the training process all read the store, so :class:`ConnectionPool` hands every thread its own
connection (``threading.local``). Connections run in autocommit mode; writes open an explicit
``BEGIN IMMEDIATE`` so a writer takes the lock up front instead of failing half-way with
``SQLITE_BUSY`` on upgrade::

    pool = ConnectionPool(Path("ws/inspector.db"))
    with pool.write() as conn:      # BEGIN IMMEDIATE ... COMMIT, durable when the block ends
        images.insert_image(conn, ...)
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.store.errors import (
    CorruptDatabaseError,
    DiskFullError,
    NotADatabaseError,
    ReadOnlyWorkspaceError,
    StoreError,
)

#: How long a writer waits for another writer before giving up (ms). Training reads and GUI
#: writes overlap; WAL readers never block, so only writer-writer contention waits here.
BUSY_TIMEOUT_MS = 10_000


def _is_readonly_error(exc: sqlite3.Error) -> bool:
    msg = str(exc).lower()
    return "readonly" in msg or "read-only" in msg or "read only" in msg


def translate(exc: sqlite3.Error, path: Path) -> StoreError:
    """Turn an sqlite3 exception into the store error a user can act on."""
    msg = str(exc)
    if "file is not a database" in msg or "file is encrypted" in msg:
        return NotADatabaseError(f"{path} is not a Plate Inspector database (not an SQLite file)")
    if "disk is full" in msg:
        return DiskFullError(f"cannot write {path}: the disk is full; free some space and retry")
    if "disk I/O error" in msg:
        return DiskFullError(
            f"cannot write {path}: disk I/O error (the disk may be full or failing); nothing"
            " half-written was kept"
        )
    if "malformed" in msg:
        return CorruptDatabaseError(
            f"{path} is damaged ({msg}): restore it from a backup (inspector db backup)"
        )
    if _is_readonly_error(exc):
        return ReadOnlyWorkspaceError(f"{path.parent} is read-only: cannot save changes ({msg})")
    if "unable to open database" in msg:
        return StoreError(f"cannot open {path}: {msg}")
    if "locked" in msg or "busy" in msg:
        return StoreError(f"{path} is busy (another program holds a write lock): {msg}")
    return StoreError(f"{path}: database error: {msg}")


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """Open one connection with the store's pragmas (read-only via a ``mode=ro`` URI)."""
    try:
        return _connect(path, read_only=read_only, immutable=False)
    except sqlite3.Error as exc:
        if read_only and _needs_immutable(path, exc):
            # A WAL database in a folder we cannot write: SQLite cannot create the -shm file
            # it needs even to read. No -wal file means no writer is mid-way, so the file on
            # disk is the whole database and can be read as immutable.
            try:
                return _connect(path, read_only=True, immutable=True)
            except sqlite3.Error as exc2:
                raise translate(exc2, path) from None
        raise translate(exc, path) from None


def _needs_immutable(path: Path, exc: sqlite3.Error) -> bool:
    wal = path.with_name(path.name + "-wal")
    folder_writable = os.access(path.parent, os.W_OK)
    blocked = _is_readonly_error(exc) or "unable to open" in str(exc)
    return blocked and not folder_writable and not wal.exists()


def _connect(path: Path, *, read_only: bool, immutable: bool) -> sqlite3.Connection:
    mode = "ro" if read_only else "rwc"
    uri = f"{path.resolve().as_uri()}?mode={mode}{'&immutable=1' if immutable else ''}"
    conn = sqlite3.connect(
        uri,
        uri=True,
        isolation_level=None,
        check_same_thread=True,
        timeout=BUSY_TIMEOUT_MS / 1000,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The first real read is where a non-SQLite file is detected.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if not read_only:
            # WAL: readers (training, GUI) never block the writer and see a consistent snapshot.
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
        # FULL: the WAL is fsynced at every commit, so a label survives a power cut once the
        # call returns (NORMAL would only survive an application crash).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Checkpoints run inside some commit and fsync the database file; a larger WAL makes
        # them rarer, so fewer label writes pay for one (SQLite's default is 1000 pages).
        conn.execute("PRAGMA wal_autocheckpoint = 4000")
        conn.execute("PRAGMA cache_size = -32000")  # 32 MB: the hot indexes of a 100k store
    except BaseException:
        conn.close()
        raise
    return conn


class ConnectionPool:
    """One connection per thread for one database file."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, read_only=self.read_only)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed (durably) before the ``with`` block is left."""
        if self.read_only:
            raise ReadOnlyWorkspaceError(
                f"the workspace {self.path.parent} is open read-only: cannot save changes"
            )
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from None
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate(exc, self.path) from None

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state (WAL snapshot)."""
        conn = self.conn
        if conn.in_transaction:  # nested: the outer snapshot already pins the state
            yield conn
            return
        conn.execute("BEGIN DEFERRED")
        try:
            # A snapshot starts at the first read: take it now, not at the caller's first query.
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Close every thread's connection (call once, from the owner, when done)."""
        with self._lock:
            mine = getattr(self._local, "conn", None)
            if not self.read_only and mine is not None:
                # Fold the WAL back into the database now rather than in someone's next write.
                with contextlib.suppress(sqlite3.Error):
                    mine.execute("PRAGMA wal_checkpoint(PASSIVE)")
            for c in self._all:
                # A connection made in another, still running thread cannot be closed from here;
                # SQLite closes it when that thread's objects are collected.
                with contextlib.suppress(sqlite3.ProgrammingError):
                    c.close()
            self._all.clear()
        self._local = threading.local()
