"""The workspace's class list, cached per store and re-read when another process changed it.

Labels are stored as class *ids*, so renaming a class never rewrites history; a merged class keeps
its id and points at the class it was merged into.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from inspector.store.errors import UnknownClassError
from inspector.store.records import ClassInfo


class ClassIndex:
    """Name <-> id lookups for one database, read in one query."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT id, name, position, merged_into FROM classes ORDER BY position, id"
        ).fetchall()
        self.by_id: dict[int, tuple[str, int, int | None]] = {
            r[0]: (r[1], r[2], r[3]) for r in rows
        }
        self.by_name: dict[str, int] = {r[1]: r[0] for r in rows}

    def infos(self) -> list[ClassInfo]:
        return [
            ClassInfo(cid, name, pos, self.by_id[m][0] if m else None)
            for cid, (name, pos, m) in self.by_id.items()
        ]

    def active_names(self) -> list[str]:
        return [name for name, _, merged in self.by_id.values() if merged is None]

    def resolve_id(self, cid: int) -> int:
        """Follow ``merged_into`` pointers to the class a label means today."""
        seen = set()
        while (m := self.by_id[cid][2]) is not None and cid not in seen:
            seen.add(cid)
            cid = m
        return cid

    def id_of(self, name: str) -> int:
        try:
            return self.resolve_id(self.by_name[name])
        except KeyError:
            raise UnknownClassError(
                f"unknown class {name!r}; the workspace has: {', '.join(self.active_names())}"
            ) from None

    def ids_of(self, names: Iterable[str]) -> list[int]:
        return self.sort_ids({self.id_of(n) for n in names})

    def sort_ids(self, ids: Iterable[int]) -> list[int]:
        return sorted(set(ids), key=lambda c: (self.by_id[c][1], c))

    def names_of(self, ids: Iterable[int] | None) -> tuple[str, ...] | None:
        if ids is None:
            return None
        return tuple(self.by_id[c][0] for c in self.sort_ids(ids))
