"""Label decisions and their history: set, undo, redo (each an appended event), read back.

>>> store.set_labels(img, ["crazing"], user="ana").labels   # doctest: +SKIP
('crazing',)
>>> store.undo(img, user="ana").labels is None              # back to unlabelled, as a new event
True
>>> [e.kind for e in store.history(img)]                    # doctest: +SKIP
['label', 'undo']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from inspector.domain import LabelStatus, Prediction, Role
from inspector.store import events, images
from inspector.store.classes import ClassIndex
from inspector.store.events import Seen
from inspector.store.images import ImageRef
from inspector.store.mixins.base import StoreBase
from inspector.store.records import LabelEvent

_EVENT_COLUMNS = (
    "id, image_id, kind, labels, user, role, created_at, reason, reverts,"
    " model_version, probabilities, model_labels"
)


def _to_event(row: tuple, idx: ClassIndex) -> LabelEvent:
    (eid, iid, kind, labels, user, role, created, reason, reverts, mv, probs, mlabels) = row
    return LabelEvent(
        eid,
        iid,
        kind,
        idx.names_of(events.loads_ids(labels)),
        user,
        role,
        created,
        reason,
        reverts,
        mv,
        None if probs is None else json.loads(probs),
        idx.names_of(events.loads_ids(mlabels)),
    )


class LabelsMixin(StoreBase):
    def set_labels(
        self,
        image: ImageRef,
        labels: Iterable[str],
        *,
        user: str,
        role: str = Role.ANNOTATOR,
        reason: str = "",
        seen: Prediction | None = None,
    ) -> LabelEvent:
        """Record a person's full multi-label decision (``[]`` = no defect) for one image.

        ``seen`` is the prediction shown when they decided; it decides whether the label counts
        as *confirmed* (same labels as the model) or *corrected*. Durable when this returns.
        """
        labels = list(labels) if not isinstance(labels, str) else [labels]
        with self._write() as conn:
            idx = self._classes(conn)
            iid = images.image_id(conn, image)
            ids = idx.ids_of(labels)
            s = Seen()
            if seen is not None:
                s = Seen(
                    seen.model_version or None,
                    dict(zip(seen.classes, map(float, seen.probabilities), strict=True)),
                    # The model names classes as it was trained; match through renames too.
                    idx.sort_ids(c for c in idx.model_ids(seen.labels) if c is not None),
                )
            eid = self._append_event(
                conn, idx, iid, "label", ids, user=user, role=role, reason=reason, seen=s
            )
        return self._event(eid)

    def _undo_redo(
        self, image: ImageRef, kind: str, user: str, role: str, reason: str
    ) -> LabelEvent:
        with self._write() as conn:
            idx = self._classes(conn)
            iid = images.image_id(conn, image)
            target = events.undo_target if kind == "undo" else events.redo_target
            reverts, ids, seen = target(conn, iid, idx)
            eid = self._append_event(
                conn,
                idx,
                iid,
                kind,
                ids,
                user=user,
                role=role,
                reason=reason,
                reverts=reverts,
                seen=seen,
            )
        return self._event(eid)

    def undo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Undo the last decision: append an ``undo`` event that restores the one before."""
        return self._undo_redo(image, "undo", user, role, reason)

    def redo(
        self, image: ImageRef, *, user: str, role: str = Role.ANNOTATOR, reason: str = ""
    ) -> LabelEvent:
        """Re-apply the last undone decision (a ``redo`` event); a new decision clears redo."""
        return self._undo_redo(image, "redo", user, role, reason)

    def labels(self, image: ImageRef) -> tuple[str, ...] | None:
        """The current human label (``()`` = no defect, ``None`` = unlabelled)."""
        row = self._conn.execute(
            "SELECT labels FROM current_labels WHERE image_id = ?", (self.image_id(image),)
        ).fetchone()
        return self._classes().names_of(events.loads_ids(row[0]) if row else None)

    def status(self, image: ImageRef) -> LabelStatus:
        row = self._conn.execute(
            "SELECT status FROM current_labels WHERE image_id = ?", (self.image_id(image),)
        ).fetchone()
        return LabelStatus(row[0]) if row else LabelStatus.UNLABELLED

    def _event(self, event_id: int) -> LabelEvent:
        row = self._conn.execute(
            f"SELECT {_EVENT_COLUMNS} FROM label_events WHERE id = ?", (event_id,)
        ).fetchone()
        return _to_event(row, self._classes())

    def history(self, image: ImageRef) -> list[LabelEvent]:
        """Every label event of one image, oldest first."""
        idx = self._classes()
        return [
            _to_event(r, idx)
            for r in self._conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM label_events WHERE image_id = ? ORDER BY id",
                (self.image_id(image),),
            )
        ]

    def iter_events(self, batch: int = 5000) -> Iterator[tuple[str, LabelEvent]]:
        """(image path, event) for the whole history, oldest first, in batches (for exports)."""
        idx = self._classes()
        cols = ", ".join("e." + c.strip() for c in _EVENT_COLUMNS.split(","))
        last = 0
        while True:
            # Keyset paging on the event id: each batch is an index range, however deep.
            rows = self._conn.execute(
                f"SELECT i.path, {cols} FROM label_events e JOIN images i ON i.id = e.image_id"
                " WHERE e.id > ? ORDER BY e.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield r[0], _to_event(r[1:], idx)
            last = rows[-1][1]
