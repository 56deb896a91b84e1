"""Supervisor review: approve the current label, or override it with a reason.

>>> store.review(img, "approve", user="sue")                # doctest: +SKIP
>>> store.review(img, "override", user="sue", reason="it is scale", labels=["rolled-in_scale"])
...                                                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable

from inspector.domain import Role
from inspector.store import events, images
from inspector.store.errors import StoreError
from inspector.store.images import ImageRef
from inspector.store.mixins.base import StoreBase
from inspector.store.records import ReviewDecision

_REVIEW_COLUMNS = "id, image_id, event_id, decision, reason, user, created_at"


class ReviewMixin(StoreBase):
    def review(
        self,
        image: ImageRef,
        decision: str,
        *,
        user: str,
        reason: str = "",
        labels: Iterable[str] | None = None,
    ) -> ReviewDecision:
        """A supervisor's decision on the current label: ``approve``, or ``override`` with labels.

        An override appends a label event (role supervisor, the reason as comment) first, so the
        history shows who changed what. Either way the image leaves the low-confidence queue.
        """
        if decision not in ("approve", "override"):
            raise StoreError(f"decision must be 'approve' or 'override', not {decision!r}")
        if decision == "override" and labels is None:
            raise StoreError("an override needs the labels the supervisor chose")
        if decision == "override" and not reason.strip():
            raise StoreError("an override needs a reason")
        with self._write() as conn:
            idx = self._classes(conn)
            iid = images.image_id(conn, image)
            if decision == "override":
                self._append_event(
                    conn,
                    idx,
                    iid,
                    "label",
                    idx.ids_of(list(labels or [])),
                    user=user,
                    role=Role.SUPERVISOR.value,
                    reason=reason,
                )
            ev = conn.execute(
                "SELECT event_id FROM current_labels WHERE image_id = ?", (iid,)
            ).fetchone()
            did = int(
                conn.execute(
                    "INSERT INTO review_decisions (image_id, event_id, decision, reason, user,"
                    " created_at) VALUES (?,?,?,?,?,?)",
                    (iid, ev[0] if ev else None, decision, reason, user, events.now()),
                ).lastrowid
            )
            # "reviewed" is copied onto the predictions too: the queue's index covers it there.
            conn.execute("UPDATE current_labels SET reviewed = 1 WHERE image_id = ?", (iid,))
            conn.execute("UPDATE predictions SET reviewed = 1 WHERE image_id = ?", (iid,))
            row = conn.execute(
                f"SELECT {_REVIEW_COLUMNS} FROM review_decisions WHERE id = ?", (did,)
            ).fetchone()
        return ReviewDecision(*row)

    def reviews(self, image: ImageRef) -> list[ReviewDecision]:
        """Every review decision on one image, oldest first."""
        return [
            ReviewDecision(*r)
            for r in self._conn.execute(
                f"SELECT {_REVIEW_COLUMNS} FROM review_decisions WHERE image_id = ? ORDER BY id",
                (self.image_id(image),),
            )
        ]
