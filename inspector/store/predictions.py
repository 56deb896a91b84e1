"""The ``model_versions`` and ``predictions`` tables, inside transactions the store holds.

A prediction row keeps, besides the probabilities, the numbers the review queues sort by:
``loss`` (BCE against the current human label, recomputed whenever that label changes) and
``doubt`` (see :func:`inspector.store.scoring.doubt`), each covered by an index.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable

from inspector.domain import Prediction
from inspector.store import settings
from inspector.store import thresholds as threshold_table
from inspector.store.classes import ClassIndex
from inspector.store.clock import now
from inspector.store.errors import StoreError
from inspector.store.records import ModelStatus, ModelVersion
from inspector.store.scoring import bce, doubt, mask_of

#: The low-confidence bands, in log-odds (:func:`inspector.store.scoring.doubt`): 0.5 is
#: 0.38-0.62 around a threshold of 0.5, 0.87-0.96 around 0.93, 0.13-0.29 around 0.2.
DEFAULT_BAND = 0.5
DEFAULT_NONE_OVER_BAND = 1.0
#: The widest band the store accepts (0.007-0.993 around 0.5: nearly every plate).
MAX_BAND = 5.0
#: Settings keys of the bands. The keys of the first rule (``low_conf_band``,
#: ``none_over_band``) held probabilities and are no longer read.
BAND_KEYS = ("low_conf_logit_band", "none_over_logit_band")
#: A prediction flag set when the image's heatmap looks at the plate's edges; such a prediction
#: gets doubt 0, so it heads the low-confidence queue whatever its probabilities.
EDGE_FLAG = "edge"
#: A prediction flag set when the model found the plate unlike its training plates
#: (:attr:`Prediction.is_unfamiliar`); its labels deserve doubt, so it heads the queue too.
UNFAMILIAR_FLAG = "unfamiliar"
#: Flags that put a prediction in the low-confidence queue whatever its probabilities.
QUEUE_FLAGS = frozenset({EDGE_FLAG, UNFAMILIAR_FLAG})


def flagged_doubt(
    probs: list[float], thr: list[float], band: float, none_band: float, flags: str
) -> float:
    """:func:`doubt`, or 0 for a prediction flagged by its heatmap or as an unfamiliar plate."""
    if QUEUE_FLAGS.intersection(flags.split(",")):
        return 0.0
    return doubt(probs, thr, band=band, none_over_band=none_band)


MODEL_STATUSES = tuple(s.value for s in ModelStatus)


def model_from_row(row: tuple) -> ModelVersion:
    _id, name, path, status, classes, thresholds, metrics, parent, created = row
    return ModelVersion(
        name,
        path,
        ModelStatus(status),
        tuple(json.loads(classes)),
        tuple(float(t) for t in json.loads(thresholds)),
        json.loads(metrics),
        parent,
        created,
    )


MODEL_COLUMNS = "id, name, path, status, classes, thresholds, metrics, parent, created_at"


def models(conn: sqlite3.Connection) -> dict[int, ModelVersion]:
    return {
        r[0]: model_from_row(r)
        for r in conn.execute(f"SELECT {MODEL_COLUMNS} FROM model_versions ORDER BY id")
    }


def active_model_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT id FROM model_versions WHERE status = 'active'").fetchone()
    return None if row is None else int(row[0])


def model_id(conn: sqlite3.Connection, name: str) -> int:
    row = conn.execute("SELECT id FROM model_versions WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise StoreError(f"unknown model version {name!r}")
    return int(row[0])


def model_class_ids(conn: sqlite3.Connection, classes: ClassIndex) -> dict[int, list[int | None]]:
    """Per model id: the store class id of each model output (None for a class we lack)."""
    return {mid: classes.model_ids(mv.classes) for mid, mv in models(conn).items()}


def bands(conn: sqlite3.Connection) -> tuple[float, float]:
    vals = settings.get_many(conn, list(BAND_KEYS))
    return (
        float(vals.get(BAND_KEYS[0], DEFAULT_BAND)),
        float(vals.get(BAND_KEYS[1], DEFAULT_NONE_OVER_BAND)),
    )


def register(
    conn: sqlite3.Connection,
    name: str,
    classes: Iterable[str],
    thresholds: Iterable[float],
    *,
    path: str = "",
    metrics: dict | None = None,
    parent: str | None = None,
    status: str = "candidate",
) -> int:
    if status not in MODEL_STATUSES:
        raise StoreError(f"model status must be one of {', '.join(MODEL_STATUSES)}, not {status!r}")
    classes, thresholds = list(classes), [float(t) for t in thresholds]
    if len(classes) != len(thresholds):
        raise StoreError(f"model {name!r}: {len(classes)} classes but {len(thresholds)} thresholds")
    row = conn.execute("SELECT id FROM model_versions WHERE name = ?", (name,)).fetchone()
    if row is None:
        mid = int(
            conn.execute(
                "INSERT INTO model_versions (name, path, status, classes, thresholds, metrics,"
                " parent,"
                " created_at) VALUES (?,?,'candidate',?,?,?,?,?)",
                (
                    name,
                    path,
                    json.dumps(classes),
                    json.dumps(thresholds),
                    json.dumps(metrics or {}),
                    parent,
                    now(),
                ),
            ).lastrowid
        )
        threshold_table.insert_first(conn, mid, thresholds)  # the card's are revision 1
    else:
        mid = int(row[0])
        if path or metrics is not None:
            conn.execute(
                "UPDATE model_versions SET path = coalesce(nullif(?, ''), path),"
                " metrics = coalesce(?, metrics) WHERE id = ?",
                (path, None if metrics is None else json.dumps(metrics), mid),
            )
    if status != "candidate":
        set_status(conn, name, status)
    return mid


def set_status(conn: sqlite3.Connection, name: str, status: str) -> None:
    if status not in MODEL_STATUSES:
        raise StoreError(f"model status must be one of {', '.join(MODEL_STATUSES)}, not {status!r}")
    mid = model_id(conn, name)
    if status == "active":
        # One active model: promoting retires the previous one (rollback = promote it again).
        conn.execute(
            "UPDATE model_versions SET status = 'retired' WHERE status = 'active' AND id != ?",
            (mid,),
        )
    conn.execute("UPDATE model_versions SET status = ? WHERE id = ?", (status, mid))


def upsert(
    conn: sqlite3.Connection,
    image_id: int,
    mid: int,
    mv: ModelVersion,
    pred: Prediction,
    classes: ClassIndex,
    band: float,
    none_band: float,
    current: tuple[list[int] | None, bool],
    flags: str = "",
) -> None:
    """Write one prediction, scoring it against ``current`` (the image's label ids, reviewed)."""
    by_name = dict(
        zip(pred.classes, zip(pred.probabilities, pred.thresholds, strict=True), strict=True)
    )
    missing = [c for c in mv.classes if c not in by_name]
    if missing:
        raise StoreError(f"prediction for {pred.path} lacks classes {missing} of model {mv.name!r}")
    probs = [float(by_name[c][0]) for c in mv.classes]
    # The active threshold revision (model_versions.thresholds), not the card's the predictor
    # was loaded with: a supervisor's revision applies to every prediction stored after it.
    thr = [float(t) for t in mv.thresholds]
    store_ids = classes.model_ids(mv.classes)
    pred_mask = mask_of(
        [cid for cid, p, t in zip(store_ids, probs, thr, strict=True) if cid is not None and p >= t]
    )
    labels, reviewed = current
    loss = None
    if labels is not None:
        wanted = set(labels)
        loss = bce(probs, [int(c in wanted) for c in store_ids])
    flags = with_flag(flags, UNFAMILIAR_FLAG, pred.is_unfamiliar)
    conn.execute(
        "INSERT OR REPLACE INTO predictions (image_id, model_id, probabilities, pred_mask,"
        " max_prob, loss, doubt, reviewed, flags, created_at, unfamiliar, unfamiliar_threshold)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            image_id,
            mid,
            json.dumps(probs),
            pred_mask,
            max(probs, default=0.0),
            loss,
            flagged_doubt(probs, thr, band, none_band, flags),
            int(reviewed),
            flags,
            now(),
            _real(pred.unfamiliar),
            _real(pred.unfamiliar_threshold),
        ),
    )


def _real(x: float | None) -> float | None:
    # SQLite would store a NaN as NULL anyway; say so here. The "unfamiliar" flag keeps the
    # verdict, so a NaN score still reads back as unfamiliar (see :func:`unfamiliar`).
    return None if x is None or math.isnan(x) else float(x)


def with_flag(flags: str, flag: str, on: bool) -> str:
    """``flags`` (comma-separated) with ``flag`` set or cleared, sorted."""
    have = {f for f in flags.split(",") if f}
    return ",".join(sorted(have | {flag} if on else have - {flag}))


def unfamiliar(
    score: float | None, threshold: float | None, flags: str
) -> tuple[float | None, float | None]:
    """A stored prediction's (unfamiliar, unfamiliar_threshold) as the model gave them: a
    flagged row whose score was stored as NULL had a NaN score (never "familiar")."""
    if score is None and threshold is not None and UNFAMILIAR_FLAG in flags.split(","):
        return float("nan"), threshold
    return score, threshold


def rescore_doubt(conn: sqlite3.Connection, band: float, none_band: float) -> int:
    """Recompute every stored doubt after the queue's bands changed."""
    thresholds = {mid: list(mv.thresholds) for mid, mv in models(conn).items()}
    rows = conn.execute(
        "SELECT image_id, model_id, probabilities, flags FROM predictions"
    ).fetchall()
    conn.executemany(
        "UPDATE predictions SET doubt = ? WHERE image_id = ? AND model_id = ?",
        [
            (flagged_doubt(json.loads(p), thresholds[m], band, none_band, f), i, m)
            for i, m, p, f in rows
        ],
    )
    return len(rows)


def set_thresholds(
    conn: sqlite3.Connection,
    model_id: int,
    thresholds: list[float],
    class_ids: list[int | None],
    band: float,
    none_band: float,
) -> int:
    """Make ``thresholds`` the model's active ones and re-flag its stored predictions.

    Each prediction's predicted classes (``pred_mask``) and ``doubt`` are recomputed, so the
    queues and predicted-class filters follow the new thresholds at once; the loss does not
    depend on thresholds. Returns how many predictions were updated.
    """
    conn.execute(
        "UPDATE model_versions SET thresholds = ? WHERE id = ?", (json.dumps(thresholds), model_id)
    )
    rows = conn.execute(
        "SELECT image_id, probabilities, flags FROM predictions WHERE model_id = ?", (model_id,)
    ).fetchall()
    updates = []
    for iid, probs_json, flags in rows:
        probs = json.loads(probs_json)
        mask = mask_of(
            [
                cid
                for cid, p, t in zip(class_ids, probs, thresholds, strict=True)
                if cid is not None and p >= t
            ]
        )
        updates.append(
            (mask, flagged_doubt(probs, thresholds, band, none_band, flags), iid, model_id)
        )
    conn.executemany(
        "UPDATE predictions SET pred_mask = ?, doubt = ? WHERE image_id = ? AND model_id = ?",
        updates,
    )
    return len(updates)


def set_flag(
    conn: sqlite3.Connection,
    image_id: int,
    model_id: int,
    flag: str,
    on: bool,
    band: float,
    none_band: float,
) -> bool:
    """Set or clear one flag of a stored prediction and rescore its doubt; False if none stored."""
    row = conn.execute(
        "SELECT probabilities, flags FROM predictions WHERE image_id = ? AND model_id = ?",
        (image_id, model_id),
    ).fetchone()
    if row is None:
        return False
    text = with_flag(row[1], flag, on)
    thr = list(models(conn)[model_id].thresholds)
    conn.execute(
        "UPDATE predictions SET flags = ?, doubt = ? WHERE image_id = ? AND model_id = ?",
        (text, flagged_doubt(json.loads(row[0]), thr, band, none_band, text), image_id, model_id),
    )
    return True


def set_bands(conn: sqlite3.Connection, band: float, none_band: float) -> int:
    """Store the low-confidence queue's bands and rescore every prediction's doubt."""
    settings.put(conn, BAND_KEYS[0], str(band))
    settings.put(conn, BAND_KEYS[1], str(none_band))
    return rescore_doubt(conn, band, none_band)


def pred_mask(conn: sqlite3.Connection, image_id: int, model_id: int | None) -> int | None:
    """The classes (bit mask of store ids) one model predicted for an image, if stored."""
    if model_id is None:
        return None
    row = conn.execute(
        "SELECT pred_mask FROM predictions WHERE image_id = ? AND model_id = ?",
        (image_id, model_id),
    ).fetchone()
    return None if row is None else int(row[0])


def probabilities(conn: sqlite3.Connection, image_id: int, model_id: int) -> list[float] | None:
    row = conn.execute(
        "SELECT probabilities FROM predictions WHERE image_id = ? AND model_id = ?",
        (image_id, model_id),
    ).fetchone()
    return None if row is None else json.loads(row[0])


def stored(
    conn: sqlite3.Connection, image_id: int, model_id: int
) -> tuple[list[float], float | None, float | None] | None:
    """(probabilities, unfamiliar, unfamiliar_threshold) of one stored prediction, or None."""
    row = conn.execute(
        "SELECT probabilities, unfamiliar, unfamiliar_threshold, flags FROM predictions"
        " WHERE image_id = ? AND model_id = ?",
        (image_id, model_id),
    ).fetchone()
    if row is None:
        return None
    return (json.loads(row[0]), *unfamiliar(row[1], row[2], row[3]))


def rescore_image(
    conn: sqlite3.Connection,
    image_id: int,
    ids: list[int] | None,
    reviewed: bool,
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
            (loss, int(reviewed), image_id, model_id),
        )


def mark_reviewed(conn: sqlite3.Connection, image_id: int) -> None:
    # "reviewed" is copied onto the predictions: the low-confidence queue's index covers it.
    conn.execute("UPDATE predictions SET reviewed = 1 WHERE image_id = ?", (image_id,))


def move_class_bit(conn: sqlite3.Connection, src: int, dst: int) -> None:
    """After merging class ``src`` into ``dst``: predicted masks name ``dst`` instead."""
    conn.execute(
        "UPDATE predictions SET pred_mask = (pred_mask & ~?) | ? WHERE pred_mask & ?",
        (1 << src, 1 << dst, 1 << src),
    )
