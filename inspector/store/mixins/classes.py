"""Class list methods: list, add, rename, merge.

>>> store.add_class("oil_stain").id                         # doctest: +SKIP
7
>>> store.rename_class("crazing", "cracks")                 # history follows: labels are ids
>>> store.merge_classes("inclusion", "patches", user="sue")  # doctest: +SKIP
12
"""

from __future__ import annotations

import json
import sqlite3

from inspector.domain import Role
from inspector.store import events, predictions
from inspector.store.errors import StoreError, UnknownClassError
from inspector.store.events import Seen
from inspector.store.mixins.base import StoreBase
from inspector.store.records import ClassInfo
from inspector.store.scoring import MAX_CLASS_ID


def insert_class(conn: sqlite3.Connection, name: str) -> int:
    """Append a class at the end of the order inside ``conn``'s transaction; return its id."""
    name = name.strip()
    if not name:
        raise StoreError("a class name cannot be empty")
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
        (nxt[0], name, nxt[1], events.now()),
    )
    return int(nxt[0])


class ClassesMixin(StoreBase):
    def classes(self) -> list[str]:
        """The active (not merged) class names, in order."""
        return self._classes().active_names()

    def class_infos(self) -> list[ClassInfo]:
        return self._classes().infos()

    def add_class(self, name: str) -> ClassInfo:
        with self._write() as conn:
            cid = insert_class(conn, name)
        return next(c for c in self.class_infos() if c.id == cid)

    def rename_class(self, old: str, new: str) -> None:
        """Rename a class; labels are stored by id, so the whole history follows."""
        with self._write() as conn:
            idx = self._classes(conn)
            cid = idx.by_name.get(old)
            if cid is None:
                raise UnknownClassError(f"unknown class {old!r}")
            if new in idx.by_name:
                raise StoreError(f"class {new!r} already exists; use merge to combine classes")
            conn.execute("UPDATE classes SET name = ? WHERE id = ?", (new.strip(), cid))
            # Models trained before the rename still say `old`: keep it findable for them.
            conn.execute(
                "INSERT OR REPLACE INTO class_aliases (name, class_id, renamed_at) VALUES (?,?,?)",
                (old, cid, events.now()),
            )

    def merge_classes(
        self, source: str, target: str, *, user: str, role: str = Role.SUPERVISOR
    ) -> int:
        """Merge ``source`` into ``target``; return how many images were relabelled.

        History is not rewritten: each image currently labelled ``source`` gets a new ``merge``
        event with the migrated vector, and ``source`` keeps its id as a pointer to ``target``.
        """
        reason = f"merge {source} into {target}"
        with self._write() as conn:
            idx = self._classes(conn)
            src, dst = idx.id_of(source), idx.id_of(target)
            if src == dst:
                raise StoreError(f"cannot merge {source!r} into itself")
            conn.execute("UPDATE classes SET merged_into = ? WHERE id = ?", (dst, src))
            # Predictions' masks name classes by store id: move the merged bit first, so the
            # merge events below compare against the migrated model labels.
            conn.execute(
                "UPDATE predictions SET pred_mask = (pred_mask & ~?) | ? WHERE pred_mask & ?",
                (1 << src, 1 << dst, 1 << src),
            )
            idx = self._classes(conn)
            # Read once for all the images, not once per event as _append_event would.
            mci = predictions.model_class_ids(conn, idx)
            active = predictions.active_model_id(conn)
            rows = conn.execute(
                "SELECT c.image_id, c.labels, e.model_version, e.probabilities, e.model_labels"
                " FROM current_labels c JOIN label_events e ON e.id = c.event_id"
                " WHERE c.label_mask & ?",
                (1 << src,),
            ).fetchall()
            for image_id, labels, mv, probs, mlabels in rows:
                seen = Seen(
                    mv, None if probs is None else json.loads(probs), events.loads_ids(mlabels)
                )
                events.append(
                    conn,
                    image_id,
                    "merge",
                    events.resolved(json.loads(labels), idx),
                    user=user,
                    role=str(role),
                    reason=reason,
                    seen=events.resolved_seen(seen, idx),
                    active_model_id=active,
                    model_class_ids=mci,
                )
        return len(rows)
