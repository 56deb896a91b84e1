"""The workspace's class list, cached per store and re-read when another process changed it.

Labels are stored as class *ids*, so renaming a class never rewrites history; a merged class keeps
its id and points at the class it was merged into. Model versions, though, name their outputs by
the class names they were trained with, so :meth:`ClassIndex.model_ids` also looks a name up
among the names classes had before a rename (``class_aliases``). After
``rename_class("crazing", "cracks")``, ``ClassIndex(conn).model_ids(["crazing", "rust"])`` is
``[1, None]``: a model's "crazing" output still means class 1, and "rust" is a class we lack.

This module owns the ``classes`` and ``class_aliases`` tables; their SQL is here only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from inspector.domain import NO_DEFECT
from inspector.store import clock
from inspector.store.errors import ClassNameError, StoreError, UnknownClassError
from inspector.store.records import ClassInfo
from inspector.store.scoring import MAX_CLASS_ID

#: Longest class name accepted (it becomes a folder name in ImageFolder exports).
MAX_NAME_LENGTH = 100


def valid_name(name: str) -> str:
    """``name`` stripped, or :class:`ClassNameError` when it cannot safely be a folder name.

    >>> valid_name("  rolled-in_scale ")
    'rolled-in_scale'
    >>> valid_name("../../evil")
    Traceback (most recent call last):
    ...
    inspector.store.errors.ClassNameError: class name '../../evil' contains a path separator (/ or \\)
    """
    stripped = name.strip()
    if not stripped:
        raise ClassNameError("a class name cannot be empty")
    if stripped in (".", ".."):
        raise ClassNameError(f"class name {name!r} is not allowed (it means a folder)")
    if "/" in stripped or "\\" in stripped:
        raise ClassNameError(f"class name {name!r} contains a path separator (/ or \\)")
    if not stripped.isprintable():
        raise ClassNameError(f"class name {name!r} contains control characters")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ClassNameError(f"class name {name[:20]!r}... is longer than {MAX_NAME_LENGTH}")
    if stripped.casefold() == NO_DEFECT.casefold():
        raise ClassNameError(f"{NO_DEFECT!r} means no class; it cannot be a class name")
    return stripped


def count(conn: sqlite3.Connection) -> int:
    """How many classes the workspace has ever had (merged ones included)."""
    return int(conn.execute("SELECT count(*) FROM classes").fetchone()[0])


def insert(conn: sqlite3.Connection, name: str) -> int:
    """Append a class at the end of the order inside ``conn``'s transaction; return its id."""
    name = valid_name(name)
    if conn.execute("SELECT 1 FROM classes WHERE name = ?", (name,)).fetchone():
        raise StoreError(f"class {name!r} already exists")
    nxt = conn.execute(
        "SELECT coalesce(max(id), 0) + 1, coalesce(max(position), -1) + 1 FROM classes"
    ).fetchone()
    # Ids are bits of the 64-bit label/prediction masks the page filters test.
    if nxt[0] > MAX_CLASS_ID:
        raise StoreError(f"a workspace holds at most {MAX_CLASS_ID} classes")
    conn.execute(
        "INSERT INTO classes (id, name, position, added_at) VALUES (?,?,?,?)",
        (nxt[0], name, nxt[1], clock.now()),
    )
    return int(nxt[0])


def rename(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Rename a class inside ``conn``'s transaction, keeping ``old`` as an alias for models."""
    idx = ClassIndex(conn)
    cid = idx.by_name.get(old)
    if cid is None:
        raise UnknownClassError(f"unknown class {old!r}")
    new = valid_name(new)
    if new in idx.by_name:
        raise StoreError(f"class {new!r} already exists; use merge to combine classes")
    conn.execute("UPDATE classes SET name = ? WHERE id = ?", (new, cid))
    # Models trained before the rename still say `old`: keep it findable for them.
    conn.execute(
        "INSERT OR REPLACE INTO class_aliases (name, class_id, renamed_at) VALUES (?,?,?)",
        (old, cid, clock.now()),
    )


def mark_merged(conn: sqlite3.Connection, src: int, dst: int) -> None:
    conn.execute("UPDATE classes SET merged_into = ? WHERE id = ?", (dst, src))


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
