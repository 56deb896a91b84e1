"""Creating and vetting a workspace database before anything is written into it.

* A new workspace is built under a temporary name in the same folder (schema and default classes)
  and only then linked into place as ``inspector.db``: a process killed half-way, or a full disk,
  leaves no half-made workspace behind, just a temporary file the next creation removes.
* An existing file must start with SQLite's magic bytes. A 0-byte ``inspector.db`` is refused
  too (it is not something this program leaves behind; it may be a failed copy of a real one).
* A workspace opened for writing must pass ``PRAGMA quick_check`` first: a database whose pages
  are damaged is never written to (the user is told to restore a backup); it can still be
  opened read-only to rescue what can be read.
* Workspaces an older version left with a schema but no classes (killed between the two) get
  their default classes on the next writable open.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from inspector.store import classes as class_table
from inspector.store import settings
from inspector.store.connection import ConnectionPool, translate
from inspector.store.errors import (
    CorruptDatabaseError,
    NotADatabaseError,
    ReadOnlyWorkspaceError,
    StoreError,
)
from inspector.store.migrations import SCHEMA_VERSION, migrate, schema_version
from inspector.store.workspace import DB_NAME, resolve_workspace

SQLITE_MAGIC = b"SQLite format 3\x00"
#: Temporary files of a creation in progress: ``.inspector.db.creating-<pid>-<thread>``.
_CREATING = ".{name}.creating-"
#: Set in the transaction that adds the default classes; absent means "never seeded".
SEEDED_KEY = "classes_seeded"


def open_pool(
    workspace: str | os.PathLike[str] | None,
    *,
    read_only: bool,
    create: bool,
    class_names: Iterable[str],
) -> tuple[Path, ConnectionPool]:
    """(workspace folder, connection pool) for :meth:`LabelStore.open`, vetted and migrated.

    A path to an existing file opens that database (a backup, say). A workspace whose folder
    cannot be written is opened read-only.
    """
    ws = resolve_workspace(workspace).absolute()
    db = ws / DB_NAME
    if ws.is_file():  # a database file under another name, e.g. a backup
        ws, db = ws.parent, ws
    if db.exists():
        check_file(db)
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
            raise ReadOnlyWorkspaceError(f"cannot create a database in {ws}: folder is read-only")
        create_database(db, class_names)
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
            check_integrity(conn, db)  # never write into a damaged file
            migrate(conn, db)
            seed_classes(conn, class_names)  # a workspace an older version left without them
    except sqlite3.Error as exc:
        pool.close()
        raise translate(exc, db) from None
    except BaseException:
        pool.close()
        raise
    return ws, pool


def check_file(db: Path) -> None:
    """Refuse a file that is not SQLite before SQLite opens it (and maybe writes a WAL beside it)."""
    try:
        with db.open("rb") as f:
            head = f.read(16)
    except PermissionError:
        raise ReadOnlyWorkspaceError(f"cannot read {db}: permission denied") from None
    except OSError as exc:
        raise StoreError(f"cannot read {db}: {exc.strerror or exc}") from None
    if not head:
        raise NotADatabaseError(
            f"{db} is empty (0 bytes), so it is not a workspace: restore it from a backup"
            " (inspector db backup), or delete it to start a new, empty workspace"
        )
    if head != SQLITE_MAGIC:
        raise NotADatabaseError(f"{db} is not a Plate Inspector database (not an SQLite file)")


def check_integrity(conn: sqlite3.Connection, db: Path) -> None:
    """Raise :class:`CorruptDatabaseError` unless ``PRAGMA quick_check`` says ok."""
    try:
        rows = conn.execute("PRAGMA quick_check(5)").fetchall()
    except sqlite3.DatabaseError as exc:
        problem = str(exc)
    else:
        if rows == [("ok",)]:
            return
        problem = "; ".join(str(r[0]) for r in rows)
    problem = " ".join(problem.replace("*** in database main ***", "").split())  # one line
    raise CorruptDatabaseError(
        f"{db} fails SQLite's integrity check ({problem}); nothing was written to it: restore it"
        " from a backup (inspector db backup makes one), or open it read-only to rescue data"
    )


def create_database(db: Path, class_names: Iterable[str]) -> None:
    """Build a complete workspace database at ``db`` (schema and classes) or leave nothing."""
    folder = db.parent
    _remove_dead_creations(db)
    # pid first (to tell a dead creator's leftovers), thread next (two threads of one process).
    tmp = folder / f"{_CREATING.format(name=db.name)}{os.getpid()}-{threading.get_ident()}"
    try:
        _build(tmp, list(class_names))
        _fsync(tmp)
        try:
            os.link(tmp, db)  # atomic, and never replaces a workspace another process made
        except FileExistsError:
            pass  # another process created it meanwhile: use theirs
        except OSError:  # a file system without hard links
            if not db.exists():
                os.replace(tmp, db)
        _fsync(folder)
    except sqlite3.Error as exc:
        raise translate(exc, db) from None
    except OSError as exc:
        raise StoreError(f"cannot create {db}: {exc.strerror or exc}") from None
    finally:
        _unlink_quietly(tmp)


def _build(tmp: Path, class_names: list[str]) -> None:
    _unlink_quietly(tmp)
    # A rollback journal, not WAL, while the file is private: nothing else may be left beside
    # it once it is linked into place. It becomes WAL on its first real open.
    conn = sqlite3.connect(tmp, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn, tmp)
        seed_classes(conn, class_names)
    finally:
        conn.close()


def seed_classes(conn: sqlite3.Connection, class_names: Iterable[str]) -> bool:
    """Add the default classes unless this database has ever had them; True when added.

    One transaction, re-checked under the write lock, so two processes opening the same
    half-made workspace add them once.
    """
    if settings.get(conn, SEEDED_KEY) is not None:
        return False  # the common case, answered without taking the write lock
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = settings.get(conn, SEEDED_KEY) is not None or class_table.count(conn) > 0
        if not done:
            for name in class_names:
                class_table.insert(conn, name)
        # Also for an older workspace that has its classes: later opens skip the lock.
        settings.put(conn, SEEDED_KEY, "1")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return not done


def _remove_dead_creations(db: Path) -> None:
    """Delete temporary files of creations whose process no longer runs (killed, power cut)."""
    prefix = _CREATING.format(name=db.name)
    for p in db.parent.glob(prefix + "*"):
        pid = p.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            _unlink_quietly(p)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread's creation in progress (ours clean up after themselves)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _fsync(path: Path) -> None:
    # Without it, a power cut right after the link could leave a linked but empty file.
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:
        return  # e.g. directories cannot be opened on Windows
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(p: Path) -> None:
    for q in (p, p.with_name(p.name + "-journal")):
        with contextlib.suppress(OSError):
            q.unlink()
