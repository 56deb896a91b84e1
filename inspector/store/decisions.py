"""Label decisions that touch several tables, each inside the caller's write transaction:
a label event (and its consequences on the current label and the predictions' losses), undo and
redo, merging two classes, a supervisor's review.

No SQL here: each table's statements live in its own module (``events``, ``predictions``,
``reviews``, ``classes``); this module only says in which order they happen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from inspector.domain import Prediction, Role
from inspector.store import classes as class_table
from inspector.store import events, images, predictions, reviews
from inspector.store.classes import ClassIndex
from inspector.store.errors import StoreError
from inspector.store.events import Seen
from inspector.store.images import ImageRef
from inspector.store.records import EventKind, ReviewDecision, ReviewKind


class _Models:
    """The active model and every model's class mapping, read once per transaction."""

    def __init__(self, conn: sqlite3.Connection, idx: ClassIndex) -> None:
        self.active = predictions.active_model_id(conn)
        self.class_ids = predictions.model_class_ids(conn, idx)


def record(
    conn: sqlite3.Connection,
    image_id: int,
    kind: EventKind,
    ids: list[int] | None,
    *,
    user: str,
    role: str,
    models: _Models,
    reason: str = "",
    reverts: int | None = None,
    seen: Seen | None = None,
) -> int:
    """Append one event; bring the current label and every prediction's loss up to date."""
    seen = seen or Seen()
    status = events.decided_status(ids, seen, predictions.pred_mask(conn, image_id, models.active))
    reviewed = ids is not None or reviews.exists_for(conn, image_id)
    eid = events.append(
        conn,
        image_id,
        kind,
        ids,
        user=user,
        role=str(role),
        status=status,
        reviewed=reviewed,
        reason=reason,
        reverts=reverts,
        seen=seen,
    )
    if models.class_ids:
        predictions.rescore_image(conn, image_id, ids, reviewed, models.class_ids)
    return eid


def models(conn: sqlite3.Connection, idx: ClassIndex) -> _Models:
    return _Models(conn, idx)


def set_labels(
    conn: sqlite3.Connection,
    image: ImageRef,
    labels: Iterable[str],
    *,
    user: str,
    role: str,
    reason: str,
    seen: Prediction | None,
) -> int:
    idx = ClassIndex(conn)
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
    return record(
        conn,
        iid,
        EventKind.LABEL,
        ids,
        user=user,
        role=role,
        models=_Models(conn, idx),
        reason=reason,
        seen=s,
    )


def undo_redo(
    conn: sqlite3.Connection, image: ImageRef, kind: EventKind, *, user: str, role: str, reason: str
) -> int:
    """Undo (redo) ``user``'s own last (undone) decision on the image; a colleague's decision,
    or one a supervisor approved, is never undone (:class:`NotYourDecisionError`)."""
    idx = ClassIndex(conn)
    iid = images.image_id(conn, image)
    target = events.undo_target if kind == EventKind.UNDO else events.redo_target
    approved = reviews.last_approved_event(conn, iid)
    reverts, ids, seen = target(conn, iid, idx, user=user, approved_event=approved)
    return record(
        conn,
        iid,
        kind,
        ids,
        user=user,
        role=role,
        models=_Models(conn, idx),
        reason=reason,
        reverts=reverts,
        seen=seen,
    )


def merge(conn: sqlite3.Connection, source: str, target: str, *, user: str, role: str) -> int:
    """Merge class ``source`` into ``target``; return how many images were relabelled.

    History is not rewritten: each image currently labelled ``source`` gets a new ``merge``
    event with the migrated vector, and ``source`` keeps its id as a pointer to ``target``.
    """
    idx = ClassIndex(conn)
    src, dst = idx.id_of(source), idx.id_of(target)
    if src == dst:
        raise StoreError(f"cannot merge {source!r} into itself")
    class_table.mark_merged(conn, src, dst)
    # Predictions' masks name classes by store id: move the merged bit first, so the merge
    # events below compare against the migrated model labels.
    predictions.move_class_bit(conn, src, dst)
    idx = ClassIndex(conn)
    mods = _Models(conn, idx)  # read once for all the images, not once per event
    rows = events.labelled_with(conn, src)
    for image_id, ids, seen in rows:
        record(
            conn,
            image_id,
            EventKind.MERGE,
            events.resolved(ids, idx),
            user=user,
            role=role,
            models=mods,
            reason=f"merge {source} into {target}",
            seen=events.resolved_seen(seen, idx),
        )
    return len(rows)


def review(
    conn: sqlite3.Connection,
    image: ImageRef,
    decision: ReviewKind | str,
    *,
    user: str,
    reason: str,
    labels: Iterable[str] | None,
) -> ReviewDecision:
    """A supervisor's decision; an override appends a label event (role supervisor) first."""
    try:
        decision = ReviewKind(decision)
    except ValueError:
        choices = " or ".join(repr(k.value) for k in ReviewKind)
        raise StoreError(f"decision must be {choices}, not {decision!r}") from None
    if decision == ReviewKind.OVERRIDE and labels is None:
        raise StoreError("an override needs the labels the supervisor chose")
    if decision == ReviewKind.OVERRIDE and not reason.strip():
        raise StoreError("an override needs a reason")
    idx = ClassIndex(conn)
    iid = images.image_id(conn, image)
    if decision == ReviewKind.OVERRIDE:
        record(
            conn,
            iid,
            EventKind.LABEL,
            idx.ids_of(list(labels or [])),
            user=user,
            role=Role.SUPERVISOR.value,
            models=_Models(conn, idx),
            reason=reason,
        )
    rec = reviews.insert(
        conn, iid, events.current_event_id(conn, iid), decision, reason=reason, user=user
    )
    # Either way the image leaves the low-confidence queue.
    events.mark_reviewed(conn, iid)
    predictions.mark_reviewed(conn, iid)
    return rec
