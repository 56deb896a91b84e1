"""``inspector db check`` and ``inspector db backup``: integrity, schema version, counts, copies.

>>> store.check().ok                                          # doctest: +SKIP
True
>>> store.backup("/backups/line3-monday.db")                  # doctest: +SKIP
PosixPath('/backups/line3-monday.db')
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from inspector.store.connection import translate
from inspector.store.errors import StoreError
from inspector.store.migrations import SCHEMA_VERSION, schema_version
from inspector.store.mixins.base import StoreBase
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
}


class MaintenanceMixin(StoreBase):
    def counts(self) -> dict[str, int]:
        c = self._conn
        return {name: int(c.execute(sql).fetchone()[0]) for name, sql in _COUNTS.items()}

    def check(self) -> CheckReport:
        """``PRAGMA integrity_check``, the schema version and row counts.

        A damaged file is reported, not raised: the report then says what SQLite found, and
        only the counts that could still be read.
        """
        try:
            rows = self._conn.execute("PRAGMA integrity_check(20)").fetchall()
            found = [str(r[0]) for r in rows]
        except sqlite3.DatabaseError as exc:
            found = [str(exc)]
        integrity = "ok" if found == ["ok"] else " ".join("; ".join(found).split())
        counts = {}
        for name, sql in _COUNTS.items():
            try:
                counts[name] = int(self._conn.execute(sql).fetchone()[0])
            except sqlite3.DatabaseError:
                continue
        return CheckReport(
            str(self.path), integrity, schema_version(self._conn), SCHEMA_VERSION, counts
        )

    def backup(self, dest: str | os.PathLike[str]) -> Path:
        """Copy the database as one consistent snapshot, however busy other writers are.

        ``VACUUM INTO`` copies inside a single read transaction (WAL readers never block
        writers, and writers never restart it, unlike the step-wise online backup API, which
        starts over after every write by another process and so may never finish). The copy
        goes to a temporary file beside ``dest`` that is fsynced, checked and renamed; any
        failure or interruption removes it, so ``dest`` is either complete or untouched.
        """
        out = Path(dest).expanduser().absolute()
        if out.is_dir():
            out = out / DB_NAME
        if out.exists() and out.resolve() == self.path.resolve():
            raise StoreError("the backup file must not be the workspace database itself")
        tmp = out.with_name(f"{out.name}.part")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            _remove(tmp)  # left by a backup that was killed
            self._conn.execute("VACUUM INTO ?", (str(tmp),))
            _fsync(tmp)
            check = sqlite3.connect(f"{tmp.as_uri()}?mode=ro", uri=True)
            try:
                ok = check.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                check.close()
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
