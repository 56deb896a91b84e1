"""The ``threshold_revisions`` table: each model version's per-class thresholds, append-only.

Revision 1 is the model card's thresholds (written when the model is registered); a supervisor's
change appends revision n + 1 with who, when, why and the values it replaced. The latest
revision is the *active* one: :func:`apply` also copies it into ``model_versions.thresholds``,
so every reader of a model's thresholds (queues, predictions, the inspectors' bars) uses it.

Functions over a connection the caller holds (inside its transaction for writes).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.store import clock

CARD_USER = "model card"


@dataclass(frozen=True, slots=True)
class ThresholdRevision:
    """One revision of a model version's thresholds (``previous`` is None for revision 1)."""

    model_version: str
    revision: int
    classes: tuple[str, ...]
    thresholds: tuple[float, ...]
    previous: tuple[float, ...] | None
    user: str
    role: str
    reason: str
    created_at: str

    def changes(self) -> list[tuple[str, float, float]]:
        """(class, old, new) for each class this revision moved."""
        if self.previous is None:
            return []
        return [
            (c, o, n)
            for c, o, n in zip(self.classes, self.previous, self.thresholds, strict=True)
            if abs(o - n) > 1e-12
        ]


_COLUMNS = (
    "m.name, r.revision, m.classes, r.thresholds, r.previous, r.user, r.role, r.reason,"
    " r.created_at"
)


def _record(row: tuple) -> ThresholdRevision:
    name, rev, classes, thr, prev, user, role, reason, created = row
    return ThresholdRevision(
        name,
        int(rev),
        tuple(json.loads(classes)),
        tuple(float(t) for t in json.loads(thr)),
        None if prev is None else tuple(float(t) for t in json.loads(prev)),
        user,
        role,
        reason,
        created,
    )


def insert_first(conn: sqlite3.Connection, model_id: int, thresholds: Sequence[float]) -> None:
    """Revision 1: the model card's thresholds (called when a model version is registered)."""
    conn.execute(
        "INSERT OR IGNORE INTO threshold_revisions (model_id, revision, thresholds, previous,"
        " user, role, reason, created_at) VALUES (?, 1, ?, NULL, ?, '', 'the model card', ?)",
        (model_id, json.dumps([float(t) for t in thresholds]), CARD_USER, clock.now()),
    )


def latest(conn: sqlite3.Connection, model_id: int) -> ThresholdRevision | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM threshold_revisions r JOIN model_versions m ON m.id = r.model_id"
        " WHERE r.model_id = ? ORDER BY r.revision DESC LIMIT 1",
        (model_id,),
    ).fetchone()
    return None if row is None else _record(row)


def of_model(conn: sqlite3.Connection, model_id: int) -> list[ThresholdRevision]:
    """Every revision of one model version, oldest first."""
    return [
        _record(r)
        for r in conn.execute(
            f"SELECT {_COLUMNS} FROM threshold_revisions r"
            " JOIN model_versions m ON m.id = r.model_id WHERE r.model_id = ? ORDER BY r.revision",
            (model_id,),
        )
    ]


def append(
    conn: sqlite3.Connection,
    model_id: int,
    thresholds: Sequence[float],
    previous: Sequence[float],
    *,
    user: str,
    role: str,
    reason: str,
) -> int:
    """Append the next revision; return its number (revision 1 is written first if absent)."""
    row = conn.execute(
        "SELECT max(revision) FROM threshold_revisions WHERE model_id = ?", (model_id,)
    ).fetchone()
    last = int(row[0]) if row and row[0] is not None else 0
    if last == 0:  # a model registered before revisions existed and never backfilled
        insert_first(conn, model_id, previous)
        last = 1
    conn.execute(
        "INSERT INTO threshold_revisions (model_id, revision, thresholds, previous, user, role,"
        " reason, created_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            model_id,
            last + 1,
            json.dumps([float(t) for t in thresholds]),
            json.dumps([float(t) for t in previous]),
            user,
            role,
            reason,
            clock.now(),
        ),
    )
    return last + 1
