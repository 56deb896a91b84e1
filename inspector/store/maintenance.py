"""``inspector db check`` and ``inspector db backup``: integrity, schema version, counts, copies.

Functions over a connection (read-only is enough for all of them). The counts read several
tables, but only to report them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from inspector.store.connection import translate
from inspector.store.errors import StoreError
from inspector.store.migrations import SCHEMA_VERSION, schema_version
from inspector.store.records import CheckReport
from inspector.store.workspace import DB_NAME

_COUNTS = {
    "images": "SELECT count(*) FROM images",
    "missing images": "SELECT count(*) FROM images WHERE missing",
    "labelled images": "SELECT count(*) FROM current_labels WHERE labels IS NOT NULL",
    "label events": "SELECT count(*) FROM label_events",
    "classes": "SELECT count(*) FROM classes WHERE merged_into IS NULL",
    "predictions": "SELECT count(*) FROM predictions",
    "model versions": "SELECT count(*) FROM model_versions",
    "review decisions": "SELECT count(*) FROM review_decisions",
    "boxes": "SELECT count(*) FROM boxes",
    "unreadable images": "SELECT count(*) FROM images WHERE unreadable",
}


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in _COUNTS.items()}


def check(conn: sqlite3.Connection, path: Path) -> CheckReport:
    """``PRAGMA integrity_check``, the schema version and row counts.

    A damaged file is reported, not raised: the report then says what SQLite found, and only
    the counts that could still be read.
    """
    try:
        found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)").fetchall()]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    integrity = "ok" if found == ["ok"] else " ".join("; ".join(found).split())
    readable = {}
    for name, sql in _COUNTS.items():
        try:
            readable[name] = int(conn.execute(sql).fetchone()[0])
        except sqlite3.DatabaseError:
            continue
    return CheckReport(str(path), integrity, schema_version(conn), SCHEMA_VERSION, readable)


def backup(conn: sqlite3.Connection, source: Path, dest: str | os.PathLike[str]) -> Path:
    """Copy the database as one consistent snapshot, however busy other writers are.

    ``VACUUM INTO`` copies inside a single read transaction (WAL readers never block writers,
    and writers never restart it, unlike the step-wise online backup API, which starts over
    after every write by another process and so may never finish). The copy goes to a
    temporary file beside ``dest`` that is fsynced, checked and renamed; any failure or
    interruption removes it, so ``dest`` is either complete or untouched.
    """
    out = Path(dest).expanduser().absolute()
    if out.is_dir():
        out = out / DB_NAME
    if out.exists() and out.resolve() == source.resolve():
        raise StoreError("the backup file must not be the workspace database itself")
    tmp = out.with_name(f"{out.name}.part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _remove(tmp)  # left by a backup that was killed
        conn.execute("VACUUM INTO ?", (str(tmp),))
        _fsync(tmp)
        copy = sqlite3.connect(f"{tmp.as_uri()}?mode=ro", uri=True)
        try:
            ok = copy.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            copy.close()
        if ok != "ok":
            raise StoreError(f"the backup copy failed its check ({ok}); {out} was not written")
        os.replace(tmp, out)
        _fsync(out.parent)
    except OSError as exc:
        _remove(tmp)
        raise StoreError(f"cannot write the backup {out}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        _remove(tmp)
        raise translate(exc, out) from None
    except BaseException:  # Ctrl-C, or a StoreError above: never leave a .part behind
        _remove(tmp)
        raise
    return out


def _remove(tmp: Path) -> None:
    for p in (tmp, tmp.with_name(tmp.name + "-journal")):
        with contextlib.suppress(OSError):
            p.unlink()


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
