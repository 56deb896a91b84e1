"""Read queries behind the gallery, top-losses and low-confidence views.

Each is a single indexed query over denormalised columns (``current_labels``, ``predictions.loss``,
``predictions.doubt``), so a page costs milliseconds on a store of 100,000 images and a million
label events.

    store.page(ImageFilter(label="crazing", status="corrected"), limit=200)
    store.page(ImageFilter(prob_class="scratches", prob_min=0.4, prob_max=0.6))
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from inspector.domain import NO_DEFECT, LabelStatus
from inspector.store import predictions
from inspector.store.classes import ClassIndex
from inspector.store.errors import StoreError
from inspector.store.events import loads_ids
from inspector.store.migrations import PROB_INDEXED_CLASSES
from inspector.store.records import ImageRow


@dataclass(frozen=True, slots=True)
class ImageFilter:
    """Conditions on a page of images; ``None`` means "any". All given conditions must hold.

    ``predicted``, ``prob_*`` refer to ``model_version`` (default: the active model).
    Without ``prob_class`` the probability band applies to the image's highest probability.
    """

    label: str | None = None
    predicted: str | None = None
    status: LabelStatus | str | None = None
    prob_class: str | None = None
    prob_min: float | None = None
    prob_max: float | None = None
    missing: bool | None = None
    model_version: str | None = None


# Drive from current_labels (small rows; its status index yields image ids in order) and
# CROSS JOIN so the planner keeps that order instead of scanning the wider images table.
_FROM = "FROM current_labels c CROSS JOIN images i ON i.id = c.image_id"
_ROW_SELECT = (
    "SELECT i.id, i.path, i.missing, c.labels, c.status, p.probabilities, p.pred_mask,"
    " p.max_prob, p.loss"
)


def _model(conn: sqlite3.Connection, name: str | None) -> tuple[int | None, list[str]]:
    mid = predictions.active_model_id(conn) if name is None else predictions.model_id(conn, name)
    if mid is None:
        return None, []
    return mid, list(predictions.models(conn)[mid].classes)


def _where(
    conn: sqlite3.Connection, f: ImageFilter, idx: ClassIndex
) -> tuple[list[str], list, bool, int | None, list[str]]:
    mid, mclasses = _model(conn, f.model_version)
    where: list[str] = []
    args: list = []
    needs_pred = False
    if f.label is not None:
        if f.label == NO_DEFECT:
            where.append("c.labels = '[]'")
        else:
            where.append("c.label_mask & ? != 0")
            args.append(1 << idx.id_of(f.label))
    if f.status is not None:
        where.append("c.status = ?")
        args.append(LabelStatus(f.status).value)
    if f.missing is not None:
        where.append("i.missing = ?")
        args.append(int(f.missing))
    if f.predicted is not None:
        needs_pred = True
        if f.predicted == NO_DEFECT:
            where.append("p.pred_mask = 0")
        else:
            where.append("p.pred_mask & ? != 0")
            args.append(1 << idx.id_of(f.predicted))
    if f.prob_min is not None or f.prob_max is not None:
        needs_pred = True
        if f.prob_class is None:
            col = "p.max_prob"
        else:
            if f.prob_class not in mclasses:
                raise StoreError(f"the model has no class {f.prob_class!r}")
            col = f"json_extract(p.probabilities, '$[{mclasses.index(f.prob_class)}]')"
        if f.prob_min is not None:
            where.append(f"{col} >= ?")
            args.append(float(f.prob_min))
        if f.prob_max is not None:
            where.append(f"{col} <= ?")
            args.append(float(f.prob_max))
    if needs_pred and mid is None:
        raise StoreError("no active model: predicted-class and probability filters need one")
    return where, args, needs_pred, mid, mclasses


def _rows(
    rows: list[tuple], idx: ClassIndex, mclasses: list[str], mclass_ids: list[int | None]
) -> list[ImageRow]:
    # A page has a handful of distinct label vectors and masks: decode each once.
    label_names: dict[str | None, tuple[str, ...] | None] = {}
    pred_names: dict[int, tuple[str, ...] | None] = {}
    statuses = {s.value: s for s in LabelStatus}
    out = []
    for iid, path, missing, labels, status, probs, pred_mask, max_prob, loss in rows:
        pdict = predicted = None
        if probs is not None:
            pdict = dict(zip(mclasses, json.loads(probs), strict=True))
            predicted = pred_names.get(pred_mask)
            if predicted is None:
                predicted = pred_names[pred_mask] = idx.names_of(
                    [c for c in mclass_ids if c is not None and pred_mask >> c & 1]
                )
        if labels in label_names:
            names = label_names[labels]
        else:
            names = label_names[labels] = idx.names_of(loads_ids(labels))
        out.append(
            ImageRow(
                iid, path, bool(missing), names, statuses[status], predicted, pdict, max_prob, loss
            )
        )
    return out


def page(
    conn: sqlite3.Connection,
    f: ImageFilter,
    *,
    limit: int = 200,
    offset: int = 0,
    after_id: int | None = None,
) -> list[ImageRow]:
    idx = ClassIndex(conn)
    where, args, needs_pred, mid, mclasses = _where(conn, f, idx)
    if after_id is not None:
        where.append("c.image_id > ?")
        args.append(after_id)
    join = "JOIN" if needs_pred else "LEFT JOIN"
    banded = f.prob_min is not None or f.prob_max is not None
    if banded and f.prob_class in mclasses and mclasses.index(f.prob_class) < PROB_INDEXED_CLASSES:
        # Drive from the class's probability index; the matches are then sorted by id.
        # Sort only the matching ids (narrow rows), then fetch the page's full rows.
        joins = (
            "FROM predictions p CROSS JOIN current_labels c ON c.image_id = p.image_id"
            " CROSS JOIN images i ON i.id = p.image_id"
        )
        # A band-only filter is answered from the index alone, without touching other tables.
        inner = joins if any(w.startswith(("c.", "i.")) for w in where) else "FROM predictions p"
        sql = (
            f"{_ROW_SELECT} {joins} WHERE p.model_id = ? AND p.image_id IN"
            f" (SELECT p.image_id {inner} WHERE p.model_id = ? AND {' AND '.join(where)}"
            " ORDER BY p.image_id LIMIT ? OFFSET ?) ORDER BY p.image_id"
        )
        rows = conn.execute(sql, [mid, mid, *args, limit, offset]).fetchall()
        return _rows(rows, idx, mclasses, idx.model_ids(mclasses))
    sql = (
        f"{_ROW_SELECT} {_FROM} {join} predictions p"
        " ON p.image_id = c.image_id AND p.model_id = ?"
        f" {'WHERE ' + ' AND '.join(where) if where else ''}"
        " ORDER BY c.image_id LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, [mid if mid is not None else -1, *args, limit, offset]).fetchall()
    return _rows(rows, idx, mclasses, idx.model_ids(mclasses))


def count(conn: sqlite3.Connection, f: ImageFilter) -> int:
    idx = ClassIndex(conn)
    where, args, needs_pred, mid, _ = _where(conn, f, idx)
    join = "JOIN" if needs_pred else "LEFT JOIN"
    sql = (
        f"SELECT count(*) {_FROM} {join} predictions p"
        " ON p.image_id = c.image_id AND p.model_id = ?"
        f" {'WHERE ' + ' AND '.join(where) if where else ''}"
    )
    return int(conn.execute(sql, [mid if mid is not None else -1, *args]).fetchone()[0])


def _queue(
    conn: sqlite3.Connection,
    model_version: str | None,
    cond: str,
    order: str,
    limit: int,
    offset: int,
) -> list[ImageRow]:
    idx = ClassIndex(conn)
    mid, mclasses = _model(conn, model_version)
    if mid is None:
        return []
    # Driving from predictions lets SQLite walk the (model_id, ...) index in order and stop
    # after `limit` rows instead of sorting the whole table.
    sql = (
        f"{_ROW_SELECT} FROM predictions p JOIN images i ON i.id = p.image_id"
        f" JOIN current_labels c ON c.image_id = p.image_id"
        f" WHERE p.model_id = ? AND {cond} ORDER BY {order} LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, (mid, limit, offset)).fetchall()
    return _rows(rows, idx, mclasses, idx.model_ids(mclasses))


def top_losses(
    conn: sqlite3.Connection, *, limit: int = 200, offset: int = 0, model_version: str | None = None
) -> list[ImageRow]:
    return _queue(conn, model_version, "p.loss IS NOT NULL", "p.loss DESC", limit, offset)


def low_confidence(
    conn: sqlite3.Connection, *, limit: int = 200, offset: int = 0, model_version: str | None = None
) -> list[ImageRow]:
    return _queue(
        conn, model_version, "p.reviewed = 0 AND p.doubt <= 1.0", "p.doubt", limit, offset
    )


def class_counts(conn: sqlite3.Connection) -> dict[str, int]:
    idx = ClassIndex(conn)
    counts = dict.fromkeys(idx.active_names(), 0)
    counts[NO_DEFECT] = 0
    counts["unlabelled"] = 0
    # Group by the mask first: a handful of distinct masks, however many images.
    for mask, labels_null, n in conn.execute(
        "SELECT label_mask, labels IS NULL, count(*) FROM current_labels"
        " GROUP BY label_mask, labels IS NULL"
    ):
        if labels_null:
            counts["unlabelled"] += n
        elif mask == 0:
            counts[NO_DEFECT] += n
        else:
            for cid, (name, _, merged) in idx.by_id.items():
                if merged is None and mask >> cid & 1:
                    counts[name] += n
    return counts


def labelled(
    conn: sqlite3.Connection, *, include_missing: bool = False
) -> list[tuple[str, tuple[str, ...]]]:
    idx = ClassIndex(conn)
    sql = (
        "SELECT i.path, c.labels FROM current_labels c JOIN images i ON i.id = c.image_id"
        " WHERE c.labels IS NOT NULL"
        + ("" if include_missing else " AND NOT i.missing")
        + " ORDER BY i.id"
    )
    return [(p, idx.names_of(json.loads(labels)) or ()) for p, labels in conn.execute(sql)]
