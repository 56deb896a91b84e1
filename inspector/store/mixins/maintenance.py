"""``inspector db check`` and ``inspector db backup``: integrity, schema version, counts, copies.

>>> store.check().ok                                          # doctest: +SKIP
True
>>> store.backup("/backups/line3-monday.db")                  # doctest: +SKIP
PosixPath('/backups/line3-monday.db')
"""

from __future__ import annotations

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
                # In steps of 4096 pages: the source is only locked during a step, so a long copy
                # does not hold other connections up.
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
