"""The annotators' top-loss queue: labelled images by the model's loss against their label.

An image is *in* a model version's queue while its current label was not decided with that
model's prediction in view: imported ground truth, or a decision made while another model (or
none) was shown. Relabelling it here, or confirming it ("label is right"), writes a label event
that records the model version seen, so the image leaves that version's queue at once; undoing
that decision puts it back. Filters: the predicted class, the labelled class (a class pair such
as "predicted scratches, labelled inclusion") and who made the current label.

Pages are keyset-paged on ``(loss DESC, image id)`` through the ``predictions_loss`` index, so a
page deep in a 100,000-image queue costs the same as the first one::

    page = loss_page(conn, LossFilter(predicted="scratches", label="inclusion"), limit=100)
    more = loss_page(conn, f, limit=100, after=page[-1].key)
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from inspector.domain import NO_DEFECT, LabelStatus
from inspector.store import predictions
from inspector.store.classes import ClassIndex
from inspector.store.events import loads_ids


@dataclass(frozen=True, slots=True)
class LossFilter:
    """Which queue: a model version (None: the active one) and optional conditions.

    ``predicted`` / ``label``: a class name or ``"no defect"``; ``user``: who made the current
    label; ``include_checked`` also lists images already decided with this model in view.
    """

    model_version: str | None = None
    predicted: str | None = None
    label: str | None = None
    user: str | None = None
    include_checked: bool = False


@dataclass(frozen=True, slots=True)
class LossRow:
    """One line of the queue: the image, the model's view, the label and who made it."""

    id: int
    path: str
    missing: bool
    loss: float
    labels: tuple[str, ...] | None
    status: LabelStatus
    predicted: tuple[str, ...]
    probabilities: dict[str, float]
    user: str = ""
    role: str = ""
    decided_at: str = ""
    seen_model: str | None = None  # the model version shown when the label was decided

    @property
    def key(self) -> tuple[float, int]:
        """Where the next page starts (pass as ``after``)."""
        return (self.loss, self.id)


def _model(conn: sqlite3.Connection, name: str | None) -> tuple[int | None, str, list[str]]:
    mid = predictions.active_model_id(conn) if name is None else predictions.model_id(conn, name)
    if mid is None:
        return None, "", []
    mv = predictions.models(conn)[mid]
    return mid, mv.name, list(mv.classes)


def _where(f: LossFilter, idx: ClassIndex, name: str) -> tuple[list[str], list]:
    where = ["p.loss IS NOT NULL"]
    args: list = []
    if not f.include_checked:
        where.append("(e.model_version IS NULL OR e.model_version != ?)")
        args.append(name)
    if f.predicted:
        if f.predicted == NO_DEFECT:
            where.append("p.pred_mask = 0")
        else:
            where.append("p.pred_mask & ? != 0")
            args.append(1 << idx.id_of(f.predicted))
    if f.label:
        if f.label == NO_DEFECT:
            where.append("c.labels = '[]'")
        else:
            where.append("c.label_mask & ? != 0")
            args.append(1 << idx.id_of(f.label))
    if f.user:
        where.append("e.user = ?")
        args.append(f.user)
    return where, args


# Drive from predictions (CROSS JOIN keeps that order): SQLite walks the (model_id, loss DESC)
# index, whose entries end with the image id, and stops after `limit` matching rows.
_FROM = (
    "FROM predictions p CROSS JOIN current_labels c ON c.image_id = p.image_id"
    " CROSS JOIN images i ON i.id = p.image_id LEFT JOIN label_events e ON e.id = c.event_id"
)


def loss_page(
    conn: sqlite3.Connection,
    f: LossFilter,
    *,
    limit: int = 100,
    after: tuple[float, int] | None = None,
) -> list[LossRow]:
    """One page of the queue, highest loss first (ties by image id); ``after`` = a row's key."""
    idx = ClassIndex(conn)
    mid, name, mclasses = _model(conn, f.model_version)
    if mid is None:
        return []
    where, args = _where(f, idx, name)
    if after is not None:
        # a range on the index (loss <= x), then skip the ties already shown
        where.append("p.loss <= ? AND NOT (p.loss = ? AND p.image_id <= ?)")
        args += [after[0], after[0], after[1]]
    sql = (
        "SELECT i.id, i.path, i.missing, p.loss, c.labels, c.status, p.probabilities,"
        f" p.pred_mask, e.user, e.role, e.created_at, e.model_version {_FROM}"
        f" WHERE p.model_id = ? AND {' AND '.join(where)}"
        " ORDER BY p.loss DESC, p.image_id LIMIT ?"
    )
    rows = conn.execute(sql, [mid, *args, limit]).fetchall()
    mids = idx.model_ids(mclasses)
    statuses = {s.value: s for s in LabelStatus}
    names: dict[str | None, tuple[str, ...] | None] = {}
    preds: dict[int, tuple[str, ...]] = {}
    out = []
    for iid, path, missing, loss, labels, status, probs, mask, user, role, at, seen in rows:
        if labels not in names:
            names[labels] = idx.names_of(loads_ids(labels))
        if mask not in preds:
            preds[mask] = idx.names_of([c for c in mids if c is not None and mask >> c & 1]) or ()
        out.append(
            LossRow(
                iid,
                path,
                bool(missing),
                float(loss),
                names[labels],
                statuses[status],
                preds[mask],
                dict(zip(mclasses, json.loads(probs), strict=True)),
                user or "",
                role or "",
                at or "",
                seen,
            )
        )
    return out


def loss_count(conn: sqlite3.Connection, f: LossFilter) -> int:
    """How many images the queue holds (the same conditions as :func:`loss_page`)."""
    idx = ClassIndex(conn)
    mid, name, _ = _model(conn, f.model_version)
    if mid is None:
        return 0
    where, args = _where(f, idx, name)
    joins = (  # the images table adds nothing to a count
        "FROM predictions p CROSS JOIN current_labels c ON c.image_id = p.image_id"
        " LEFT JOIN label_events e ON e.id = c.event_id"
    )
    sql = f"SELECT count(*) {joins} WHERE p.model_id = ? AND {' AND '.join(where)}"
    return int(conn.execute(sql, [mid, *args]).fetchone()[0])


def labellers(conn: sqlite3.Connection) -> list[str]:
    """Everyone who made an image's current label (for the "labelled by" filter)."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT e.user FROM current_labels c JOIN label_events e"
            " ON e.id = c.event_id ORDER BY e.user"
        )
    ]


def unscored(conn: sqlite3.Connection, model_version: str) -> list[str]:
    """Paths of labelled, readable images that have no prediction of ``model_version`` yet."""
    mid = predictions.model_id(conn, model_version)
    return [
        r[0]
        for r in conn.execute(
            "SELECT i.path FROM current_labels c JOIN images i ON i.id = c.image_id"
            " WHERE c.labels IS NOT NULL AND NOT i.missing AND NOT i.unreadable"
            " AND NOT EXISTS (SELECT 1 FROM predictions p"
            " WHERE p.image_id = c.image_id AND p.model_id = ?) ORDER BY i.id",
            (mid,),
        )
    ]
