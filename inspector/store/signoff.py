"""Reads behind the supervisors' sign-off queue and its report.

The queue lists the labelled images whose prediction (by one model version, default the active
one, with its active threshold revision) is doubtful — a probability within the band around its
threshold, no class over threshold but one close, a heatmap flagged for edge attention, or a
plate the model found unfamiliar (``doubt <= 1``, see :mod:`inspector.store.scoring`) — and whose *current* label decision has
no supervisor review yet. An approval or override removes the item; a later relabel by an
annotator brings it back, because that new decision has not been signed off.

The page walks the ``(model_id, doubt)`` index in order and stops after ``limit`` rows.

    store.signoff_queue(QueueFilter(user="ana", since="2026-11-22T08:00"), limit=100)
    store.signoff_log(since, until)   # one row per review decision, for the report
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from inspector.domain import LabelStatus
from inspector.store import predictions
from inspector.store.classes import ClassIndex
from inspector.store.events import loads_ids


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which doubtful decisions to list; ``None`` means any. Times are ISO strings (UTC), the
    decision's time must be ``>= since`` and ``< until``; ``user`` is who labelled."""

    model_version: str | None = None
    user: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One doubtful decision: the image, its current label and who made it, the model's view."""

    image_id: int
    path: str
    labels: tuple[str, ...] | None
    status: LabelStatus
    event_id: int | None
    labelled_by: str
    role: str
    labelled_at: str
    seen_model: str | None  # the model version the person saw when deciding
    model_version: str  # the queue's model
    probabilities: dict[str, float]
    thresholds: dict[str, float]
    predicted: tuple[str, ...]
    doubt: float
    flags: tuple[str, ...]
    #: The model's unfamiliar-plate score and threshold (None: a model without the statistics;
    #: NaN: an unreadable score, which counts as unfamiliar). ``"unfamiliar" in flags`` = flagged.
    unfamiliar: float | None = None
    unfamiliar_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class LogRow:
    """One review decision, as the sign-off report prints it."""

    review_id: int
    at: str
    path: str
    decision: str
    supervisor: str
    reason: str
    labels: tuple[str, ...] | None  # the label signed off (after an override: the new one)
    labelled_by: str
    labelled_at: str
    model_version: str | None


_FROM = (
    "FROM predictions p CROSS JOIN current_labels c ON c.image_id = p.image_id"
    " CROSS JOIN images i ON i.id = p.image_id"
    " CROSS JOIN label_events e ON e.id = c.event_id"
)


def _where(conn: sqlite3.Connection, f: QueueFilter) -> tuple[int | None, str, list]:
    mid = (
        predictions.active_model_id(conn)
        if f.model_version is None
        else predictions.model_id(conn, f.model_version)
    )
    where = [
        "p.model_id = ?",
        "p.doubt <= 1.0",
        "c.labels IS NOT NULL",
        "NOT EXISTS (SELECT 1 FROM review_decisions r WHERE r.event_id = c.event_id)",
    ]
    args: list = [mid]
    if f.user:
        where.append("e.user = ?")
        args.append(f.user)
    if f.since:
        where.append("e.created_at >= ?")
        args.append(f.since)
    if f.until:
        where.append("e.created_at < ?")
        args.append(f.until)
    return mid, " AND ".join(where), args


def page(
    conn: sqlite3.Connection, f: QueueFilter, *, limit: int = 100, offset: int = 0
) -> list[QueueItem]:
    mid, where, args = _where(conn, f)
    if mid is None:
        return []
    mv = predictions.models(conn)[mid]
    idx = ClassIndex(conn)
    store_ids = idx.model_ids(mv.classes)
    sql = (
        "SELECT i.id, i.path, c.labels, c.status, c.event_id, e.user, e.role, e.created_at,"
        f" e.model_version, p.probabilities, p.pred_mask, p.doubt, p.flags, p.unfamiliar,"
        f" p.unfamiliar_threshold {_FROM}"
        f" WHERE {where} ORDER BY p.doubt, p.image_id LIMIT ? OFFSET ?"
    )
    thr = dict(zip(mv.classes, mv.thresholds, strict=True))
    out = []
    for row in conn.execute(sql, [*args, limit, offset]):
        iid, path, labels, status, eid, user, role, at, seen, probs, mask, doubt, flags = row[:13]
        score, score_threshold = predictions.unfamiliar(row[13], row[14], flags)
        out.append(
            QueueItem(
                iid,
                path,
                idx.names_of(loads_ids(labels)),
                LabelStatus(status),
                eid,
                user,
                role,
                at,
                seen,
                mv.name,
                dict(zip(mv.classes, json.loads(probs), strict=True)),
                thr,
                tuple(
                    c
                    for c, cid in zip(mv.classes, store_ids, strict=True)
                    if cid is not None and mask >> cid & 1
                ),
                float(doubt),
                tuple(x for x in flags.split(",") if x),
                score,
                score_threshold,
            )
        )
    return out


def count(conn: sqlite3.Connection, f: QueueFilter) -> int:
    mid, where, args = _where(conn, f)
    if mid is None:
        return 0
    return int(conn.execute(f"SELECT count(*) {_FROM} WHERE {where}", args).fetchone()[0])


def labellers(conn: sqlite3.Connection) -> list[str]:
    """Everyone who made a label decision (for the queue's user filter)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT user FROM label_events ORDER BY user")]


def log(conn: sqlite3.Connection, since: str | None, until: str | None) -> list[LogRow]:
    """Review decisions made in ``[since, until)``, oldest first."""
    idx = ClassIndex(conn)
    where, args = [], []
    if since:
        where.append("r.created_at >= ?")
        args.append(since)
    if until:
        where.append("r.created_at < ?")
        args.append(until)
    sql = (
        "SELECT r.id, r.created_at, i.path, r.decision, r.user, r.reason, e.labels,"
        " coalesce(d.user, e.user, ''), coalesce(d.created_at, e.created_at, ''),"
        " coalesce(d.model_version, e.model_version)"
        " FROM review_decisions r JOIN images i ON i.id = r.image_id"
        " LEFT JOIN label_events e ON e.id = r.event_id"
        # the decision that was reviewed: for an override, the label event before it
        " LEFT JOIN label_events d ON d.id = (SELECT max(x.id) FROM label_events x"
        "   WHERE x.image_id = r.image_id AND x.id < e.id AND r.decision = 'override')"
        f" {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY r.id"
    )
    return [
        LogRow(rid, at, path, dec, sup, reason, idx.names_of(loads_ids(lab)), by, when, mv)
        for rid, at, path, dec, sup, reason, lab, by, when, mv in conn.execute(sql, args)
    ]
