"""The ``label_events`` (append-only history) and ``current_labels`` tables.

Every event insert updates, in the same transaction, the denormalised ``current_labels`` row;
:mod:`inspector.store.decisions` also rescores the image's predictions there, so a reader never
sees an event without its consequences (or the reverse), even if the process is killed mid-write.

Undo and redo are events too: the undo/redo stacks are replayed from the image's history (a few
rows, read through the ``(image_id, id)`` index), never kept in mutable state. Undo is *yours*:
a person undoes (and redoes) only their own decisions, and never one a colleague has decided
over since (:class:`~inspector.store.errors.NotYourDecisionError` says who and when).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from inspector.domain import LabelStatus
from inspector.store import clock
from inspector.store.classes import ClassIndex
from inspector.store.errors import NothingToUndoError, NotYourDecisionError
from inspector.store.records import EventKind, LabelEvent
from inspector.store.scoring import mask_of

#: Kinds that set a new label vector (undo/redo only move along the existing ones).
LABEL_KINDS = frozenset({EventKind.LABEL, EventKind.MERGE, EventKind.IMPORT})

#: Kept for callers of the old name.
now = clock.now


def dumps_ids(ids: list[int] | None) -> str | None:
    return None if ids is None else json.dumps(ids, separators=(",", ":"))


def loads_ids(text: str | None) -> list[int] | None:
    return None if text is None else json.loads(text)


@dataclass(slots=True)
class Seen:
    """What the person saw when deciding: model version, probabilities, suggested class ids."""

    model_version: str | None = None
    probabilities: dict[str, float] | None = None
    model_label_ids: list[int] | None = None


def current_ids(conn: sqlite3.Connection, image_id: int) -> list[int] | None:
    """The image's current label as class ids (``[]`` no defect, None unlabelled)."""
    row = conn.execute(
        "SELECT labels FROM current_labels WHERE image_id = ?", (image_id,)
    ).fetchone()
    return loads_ids(row[0]) if row else None


def decided_status(ids: list[int] | None, seen: Seen, active_pred_mask: int | None) -> LabelStatus:
    """Confirmed (the person agreed with the model) or corrected; unlabelled for ``None``.

    ``active_pred_mask`` is the active model's stored prediction of the image, if any; it is
    the reference when the caller did not say what the person was shown.
    """
    if ids is None:
        return LabelStatus.UNLABELLED
    suggested = seen.model_label_ids
    if suggested is not None:
        return LabelStatus.CONFIRMED if set(suggested) == set(ids) else LabelStatus.CORRECTED
    if active_pred_mask is not None:
        return LabelStatus.CONFIRMED if active_pred_mask == mask_of(ids) else LabelStatus.CORRECTED
    # A human decision nothing contradicts (e.g. imported ground truth) counts as confirmed.
    return LabelStatus.CONFIRMED


def append(
    conn: sqlite3.Connection,
    image_id: int,
    kind: EventKind,
    ids: list[int] | None,
    *,
    user: str,
    role: str,
    status: LabelStatus,
    reviewed: bool,
    reason: str = "",
    reverts: int | None = None,
    seen: Seen | None = None,
) -> int:
    """Insert one event and make it the image's current label; return the event id."""
    seen = seen or Seen()
    ts = clock.now()
    cur = conn.execute(
        "INSERT INTO label_events (image_id, kind, labels, reverts, user, role, created_at, reason,"
        " model_version, probabilities, model_labels) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            image_id,
            str(kind),
            dumps_ids(ids),
            reverts,
            user,
            role,
            ts,
            reason,
            seen.model_version,
            None if seen.probabilities is None else json.dumps(seen.probabilities),
            dumps_ids(seen.model_label_ids),
        ),
    )
    event_id = int(cur.lastrowid)
    conn.execute(
        "INSERT INTO current_labels (image_id, event_id, labels, label_mask, status, reviewed,"
        " updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(image_id) DO UPDATE SET"
        " event_id = excluded.event_id, labels = excluded.labels, label_mask = excluded.label_mask,"
        " status = excluded.status, reviewed = excluded.reviewed, updated_at = excluded.updated_at",
        (image_id, event_id, dumps_ids(ids), mask_of(ids), status.value, int(reviewed), ts),
    )
    return event_id


def current_state(conn: sqlite3.Connection, image_id: int) -> tuple[list[int] | None, bool]:
    """(current label ids, reviewed) of one image."""
    row = conn.execute(
        "SELECT labels, reviewed FROM current_labels WHERE image_id = ?", (image_id,)
    ).fetchone()
    return (loads_ids(row[0]), bool(row[1])) if row else (None, False)


def current_event_id(conn: sqlite3.Connection, image_id: int) -> int | None:
    row = conn.execute(
        "SELECT event_id FROM current_labels WHERE image_id = ?", (image_id,)
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def current_status(conn: sqlite3.Connection, image_id: int) -> LabelStatus:
    row = conn.execute(
        "SELECT status FROM current_labels WHERE image_id = ?", (image_id,)
    ).fetchone()
    return LabelStatus(row[0]) if row else LabelStatus.UNLABELLED


def mark_reviewed(conn: sqlite3.Connection, image_id: int) -> None:
    conn.execute("UPDATE current_labels SET reviewed = 1 WHERE image_id = ?", (image_id,))


def labelled_with(conn: sqlite3.Connection, class_id: int) -> list[tuple[int, list[int], Seen]]:
    """(image id, current label ids, what was seen for it) of images labelled ``class_id``."""
    rows = conn.execute(
        "SELECT c.image_id, c.labels, e.model_version, e.probabilities, e.model_labels"
        " FROM current_labels c JOIN label_events e ON e.id = c.event_id"
        " WHERE c.label_mask & ?",
        (1 << class_id,),
    ).fetchall()
    return [
        (
            int(iid),
            loads_ids(labels) or [],
            Seen(mv, None if probs is None else json.loads(probs), loads_ids(mlabels)),
        )
        for iid, labels, mv, probs, mlabels in rows
    ]


EVENT_COLUMNS = (
    "id, image_id, kind, labels, user, role, created_at, reason, reverts,"
    " model_version, probabilities, model_labels"
)


def to_event(row: tuple, idx: ClassIndex) -> LabelEvent:
    """An ``SELECT {EVENT_COLUMNS}`` row as a record, labels as today's class names."""
    (eid, iid, kind, labels, user, role, created, reason, reverts, mv, probs, mlabels) = row
    return LabelEvent(
        eid,
        iid,
        EventKind(kind),
        idx.names_of(loads_ids(labels)),
        user,
        role,
        created,
        reason,
        reverts,
        mv,
        None if probs is None else json.loads(probs),
        idx.names_of(loads_ids(mlabels)),
    )


def event(conn: sqlite3.Connection, event_id: int, idx: ClassIndex) -> LabelEvent:
    row = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM label_events WHERE id = ?", (event_id,)
    ).fetchone()
    return to_event(row, idx)


def history(conn: sqlite3.Connection, image_id: int, idx: ClassIndex) -> list[LabelEvent]:
    return [
        to_event(r, idx)
        for r in conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM label_events WHERE image_id = ? ORDER BY id",
            (image_id,),
        )
    ]


def iter_events(
    conn: sqlite3.Connection, idx: ClassIndex, batch: int = 5000
) -> Iterator[tuple[str, LabelEvent]]:
    """(image path, event) for the whole history, oldest first, in batches."""
    cols = ", ".join("e." + c.strip() for c in EVENT_COLUMNS.split(","))
    last = 0
    while True:
        # Keyset paging on the event id: each batch is an index range, however deep.
        rows = conn.execute(
            f"SELECT i.path, {cols} FROM label_events e JOIN images i ON i.id = e.image_id"
            " WHERE e.id > ? ORDER BY e.id LIMIT ?",
            (last, batch),
        ).fetchall()
        if not rows:
            return
        for r in rows:
            yield r[0], to_event(r[1:], idx)
        last = rows[-1][1]


@dataclass(slots=True)
class _Ev:
    id: int
    kind: str
    ids: list[int] | None
    seen: Seen
    user: str = ""
    created_at: str = ""


def _stacks(conn: sqlite3.Connection, image_id: int) -> tuple[list[_Ev], list[_Ev]]:
    done: list[_Ev] = []
    undone: list[_Ev] = []
    for eid, kind, labels, mv, probs, mlabels, user, created in conn.execute(
        "SELECT id, kind, labels, model_version, probabilities, model_labels, user, created_at"
        " FROM label_events WHERE image_id = ? ORDER BY id",
        (image_id,),
    ):
        ev = _Ev(
            eid,
            kind,
            loads_ids(labels),
            Seen(mv, None if probs is None else json.loads(probs), loads_ids(mlabels)),
            user,
            created,
        )
        if kind in LABEL_KINDS:
            done.append(ev)
            undone.clear()  # a new decision ends the redo chain, as in any editor
        elif kind == EventKind.UNDO and done:
            undone.append(done.pop())
        elif kind == EventKind.REDO and undone:
            done.append(undone.pop())
    return done, undone


def resolved(ev_ids: list[int] | None, classes: ClassIndex) -> list[int] | None:
    """Class ids as they read today, in class order."""
    # A decision made before a merge names the merged class; today it means the target class.
    return None if ev_ids is None else classes.sort_ids(classes.resolve_id(c) for c in ev_ids)


def resolved_seen(seen: Seen, classes: ClassIndex) -> Seen:
    """``seen`` with the model's suggested class ids resolved through merges."""
    return Seen(seen.model_version, seen.probabilities, resolved(seen.model_label_ids, classes))


def _when(created_at: str) -> str:
    """'2026-11-22T16:50:03.123+00:00' -> '2026-11-22 16:50' (for one-line messages)."""
    return created_at[:16].replace("T", " ")


def undo_target(
    conn: sqlite3.Connection,
    image_id: int,
    classes: ClassIndex,
    user: str | None = None,
    approved_event: int | None = None,
) -> tuple[int, list[int] | None, Seen]:
    """(event undone, vector restored, what was seen for it) for an undo of ``image_id``.

    With ``user``, only that person's own last decision can be undone: if the image's current
    decision is a colleague's (made after theirs), or a supervisor approved it
    (``approved_event`` is the event a review approved last), :class:`NotYourDecisionError`.
    """
    done, _ = _stacks(conn, image_id)
    if not done:
        raise NothingToUndoError(f"image {image_id} has no label decision to undo")
    if user is not None:
        top = done[-1]
        if top.user != user:
            if any(ev.user == user for ev in done):
                raise NotYourDecisionError(
                    f"{top.user} changed this label after you ({_when(top.created_at)});"
                    " undo would throw their decision away: label the image again instead"
                )
            raise NotYourDecisionError(
                f"you have no decision on this image to undo (the label is {top.user}'s)"
            )
        if approved_event == top.id:
            raise NotYourDecisionError(
                "a supervisor approved this label since you made it: label the image again"
                " instead of undoing"
            )
    undone = done.pop()
    if not done:
        return undone.id, None, Seen()
    prev = done[-1]
    return undone.id, resolved(prev.ids, classes), resolved_seen(prev.seen, classes)


def redo_target(
    conn: sqlite3.Connection,
    image_id: int,
    classes: ClassIndex,
    user: str | None = None,
    approved_event: int | None = None,
) -> tuple[int, list[int] | None, Seen]:
    """(event redone, vector restored, what was seen for it) for a redo of ``image_id``.

    With ``user``, only that person's own undone decision can be redone.
    """
    _, undone = _stacks(conn, image_id)
    if not undone:
        raise NothingToUndoError(f"image {image_id} has nothing to redo")
    ev = undone[-1]
    if user is not None and ev.user != user:
        raise NotYourDecisionError(
            f"nothing of yours to redo here (the undone label is {ev.user}'s)"
        )
    return ev.id, resolved(ev.ids, classes), resolved_seen(ev.seen, classes)
