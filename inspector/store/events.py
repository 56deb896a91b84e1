"""Appending label events, inside a write transaction the caller holds.

Every event insert updates, in the same transaction, the denormalised ``current_labels`` row
and the loss/"reviewed" columns of the image's predictions; a reader therefore never sees an
event without its consequences (or the reverse), even if the process is killed mid-write.

Undo and redo are events too: the undo/redo stacks are replayed from the image's history (a few
rows, read through the ``(image_id, id)`` index), never kept in mutable state.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from inspector.domain import LabelStatus
from inspector.store.classes import ClassIndex
from inspector.store.errors import NothingToUndoError
from inspector.store.scoring import bce, mask_of

LABEL_KINDS = ("label", "merge", "import")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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


def _status(
    conn: sqlite3.Connection,
    image_id: int,
    ids: list[int] | None,
    seen: Seen,
    active_model_id: int | None,
) -> LabelStatus:
    if ids is None:
        return LabelStatus.UNLABELLED
    suggested = seen.model_label_ids
    if suggested is not None:
        return LabelStatus.CONFIRMED if set(suggested) == set(ids) else LabelStatus.CORRECTED
    if active_model_id is not None:
        row = conn.execute(
            "SELECT pred_mask FROM predictions WHERE image_id = ? AND model_id = ?",
            (image_id, active_model_id),
        ).fetchone()
        if row is not None:
            return LabelStatus.CONFIRMED if row[0] == mask_of(ids) else LabelStatus.CORRECTED
    # A human decision nothing contradicts (e.g. imported ground truth) counts as confirmed.
    return LabelStatus.CONFIRMED


def refresh_predictions(
    conn: sqlite3.Connection,
    image_id: int,
    ids: list[int] | None,
    reviewed: int,
    model_class_ids: dict[int, list[int | None]],
) -> None:
    """Recompute loss (and copy ``reviewed``) for every model's prediction of one image."""
    rows = conn.execute(
        "SELECT model_id, probabilities FROM predictions WHERE image_id = ?", (image_id,)
    ).fetchall()
    wanted = set(ids or ())
    for model_id, probs_json in rows:
        loss = None
        if ids is not None:
            targets = [int(c in wanted) for c in model_class_ids[model_id]]
            loss = bce(json.loads(probs_json), targets)
        conn.execute(
            "UPDATE predictions SET loss = ?, reviewed = ? WHERE image_id = ? AND model_id = ?",
            (loss, reviewed, image_id, model_id),
        )


def append(
    conn: sqlite3.Connection,
    image_id: int,
    kind: str,
    ids: list[int] | None,
    *,
    user: str,
    role: str,
    reason: str = "",
    reverts: int | None = None,
    seen: Seen | None = None,
    active_model_id: int | None = None,
    model_class_ids: dict[int, list[int | None]] | None = None,
) -> int:
    """Insert one event and bring ``current_labels`` and predictions up to date; return its id."""
    seen = seen or Seen()
    ts = now()
    cur = conn.execute(
        "INSERT INTO label_events (image_id, kind, labels, reverts, user, role, created_at, reason,"
        " model_version, probabilities, model_labels) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            image_id,
            kind,
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
    status = _status(conn, image_id, ids, seen, active_model_id)
    decided = conn.execute(
        "SELECT 1 FROM review_decisions WHERE image_id = ? LIMIT 1", (image_id,)
    ).fetchone()
    reviewed = int(ids is not None or decided is not None)
    conn.execute(
        "INSERT INTO current_labels (image_id, event_id, labels, label_mask, status, reviewed,"
        " updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(image_id) DO UPDATE SET"
        " event_id = excluded.event_id, labels = excluded.labels, label_mask = excluded.label_mask,"
        " status = excluded.status, reviewed = excluded.reviewed, updated_at = excluded.updated_at",
        (image_id, event_id, dumps_ids(ids), mask_of(ids), status.value, reviewed, ts),
    )
    if model_class_ids:
        refresh_predictions(conn, image_id, ids, reviewed, model_class_ids)
    return event_id


@dataclass(slots=True)
class _Ev:
    id: int
    kind: str
    ids: list[int] | None
    seen: Seen


def _stacks(conn: sqlite3.Connection, image_id: int) -> tuple[list[_Ev], list[_Ev]]:
    done: list[_Ev] = []
    undone: list[_Ev] = []
    for eid, kind, labels, mv, probs, mlabels in conn.execute(
        "SELECT id, kind, labels, model_version, probabilities, model_labels FROM label_events"
        " WHERE image_id = ? ORDER BY id",
        (image_id,),
    ):
        ev = _Ev(
            eid,
            kind,
            loads_ids(labels),
            Seen(mv, None if probs is None else json.loads(probs), loads_ids(mlabels)),
        )
        if kind in LABEL_KINDS:
            done.append(ev)
            undone.clear()  # a new decision ends the redo chain, as in any editor
        elif kind == "undo" and done:
            undone.append(done.pop())
        elif kind == "redo" and undone:
            done.append(undone.pop())
    return done, undone


def resolved(ev_ids: list[int] | None, classes: ClassIndex) -> list[int] | None:
    """Class ids as they read today, in class order."""
    # A decision made before a merge names the merged class; today it means the target class.
    return None if ev_ids is None else classes.sort_ids(classes.resolve_id(c) for c in ev_ids)


def resolved_seen(seen: Seen, classes: ClassIndex) -> Seen:
    """``seen`` with the model's suggested class ids resolved through merges."""
    return Seen(seen.model_version, seen.probabilities, resolved(seen.model_label_ids, classes))


def undo_target(
    conn: sqlite3.Connection,
    image_id: int,
    classes: ClassIndex,
) -> tuple[int, list[int] | None, Seen]:
    """(event undone, vector restored, what was seen for it) for an undo of ``image_id``."""
    done, _ = _stacks(conn, image_id)
    if not done:
        raise NothingToUndoError(f"image {image_id} has no label decision to undo")
    undone = done.pop()
    if not done:
        return undone.id, None, Seen()
    prev = done[-1]
    return undone.id, resolved(prev.ids, classes), resolved_seen(prev.seen, classes)


def redo_target(
    conn: sqlite3.Connection,
    image_id: int,
    classes: ClassIndex,
) -> tuple[int, list[int] | None, Seen]:
    """(event redone, vector restored, what was seen for it) for a redo of ``image_id``."""
    _, undone = _stacks(conn, image_id)
    if not undone:
        raise NothingToUndoError(f"image {image_id} has nothing to redo")
    ev = undone[-1]
    return ev.id, resolved(ev.ids, classes), resolved_seen(ev.seen, classes)
