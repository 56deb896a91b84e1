"""The ``review_decisions`` table: supervisors' approvals and overrides, append-only.

Functions over a connection the caller holds; :func:`inspector.store.decisions.review` is the
use case (an override also appends a label event).
"""

from __future__ import annotations

import sqlite3

from inspector.store import clock
from inspector.store.records import ReviewDecision, ReviewKind

_COLUMNS = "id, image_id, event_id, decision, reason, user, created_at"


def _record(row: tuple) -> ReviewDecision:
    rid, iid, eid, decision, reason, user, created = row
    return ReviewDecision(rid, iid, eid, ReviewKind(decision), reason, user, created)


def insert(
    conn: sqlite3.Connection,
    image_id: int,
    event_id: int | None,
    decision: ReviewKind,
    *,
    reason: str,
    user: str,
) -> ReviewDecision:
    rid = conn.execute(
        "INSERT INTO review_decisions (image_id, event_id, decision, reason, user, created_at)"
        " VALUES (?,?,?,?,?,?)",
        (image_id, event_id, str(decision), reason, user, clock.now()),
    ).lastrowid
    row = conn.execute(f"SELECT {_COLUMNS} FROM review_decisions WHERE id = ?", (rid,)).fetchone()
    return _record(row)


def exists_for(conn: sqlite3.Connection, image_id: int) -> bool:
    """Whether a supervisor ever decided on this image (it then never re-enters the queue)."""
    row = conn.execute(
        "SELECT 1 FROM review_decisions WHERE image_id = ? LIMIT 1", (image_id,)
    ).fetchone()
    return row is not None


def last_approved_event(conn: sqlite3.Connection, image_id: int) -> int | None:
    """The label event the latest ``approve`` of this image approved (None: never approved)."""
    row = conn.execute(
        "SELECT event_id FROM review_decisions WHERE image_id = ? AND decision = 'approve'"
        " ORDER BY id DESC LIMIT 1",
        (image_id,),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def of_image(conn: sqlite3.Connection, image_id: int) -> list[ReviewDecision]:
    return [
        _record(r)
        for r in conn.execute(
            f"SELECT {_COLUMNS} FROM review_decisions WHERE image_id = ? ORDER BY id", (image_id,)
        )
    ]
