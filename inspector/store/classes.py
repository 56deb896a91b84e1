"""The workspace's class list, cached per store and re-read when another process changed it.

Labels are stored as class *ids*, so renaming a class never rewrites history; a merged class keeps
its id and points at the class it was merged into. Model versions, though, name their outputs by
the class names they were trained with, so :meth:`ClassIndex.model_ids` also looks a name up
among the names classes had before a rename (``class_aliases``):

>>> idx = ClassIndex(conn)                     # after rename_class("crazing", "cracks")
>>> idx.model_ids(["crazing", "rust"])         # doctest: +SKIP
[1, None]
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
        #: Old name -> class id, for names no class has any more (a current name wins).
        self.aliases: dict[str, int] = {
            name: cid
            for name, cid in conn.execute("SELECT name, class_id FROM class_aliases")
            if name not in self.by_name
        }

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

    def model_ids(self, model_classes: Iterable[str]) -> list[int | None]:
        """The store class id each model output means today (``None``: a class we lack).

        Matched by the current name, else by a name the class had before a rename; merges are
        followed either way.
        """
        out: list[int | None] = []
        for name in model_classes:
            cid = self.by_name.get(name, self.aliases.get(name))
            out.append(None if cid is None else self.resolve_id(cid))
        return out
