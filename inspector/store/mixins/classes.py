"""Class list methods: list, add, rename, merge.

>>> store.add_class("oil_stain").id                         # doctest: +SKIP
7
>>> store.rename_class("crazing", "cracks")                 # history follows: labels are ids
>>> store.merge_classes("inclusion", "patches", user="sue")  # doctest: +SKIP
12
"""

from __future__ import annotations

import json

from inspector.domain import Role
from inspector.store import classes as class_table
from inspector.store import events, predictions
from inspector.store.errors import StoreError
from inspector.store.events import Seen
from inspector.store.mixins.base import StoreBase
from inspector.store.records import ClassInfo

#: Kept for the importers; see :func:`inspector.store.classes.insert`.
insert_class = class_table.insert


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
            class_table.rename(conn, old, new)

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
