"""The learning loop's tables: frozen data snapshots, the evaluation set, model decisions.

Functions over a connection the caller holds (the facade opens the transactions):

* ``data_snapshots`` + ``snapshot_items``: what one training run learns from and is evaluated
  on, frozen when the run starts (image id, path, content hash, label names). Labels written
  afterwards change ``current_labels``, never a snapshot (a trigger refuses updates).
* ``evaluation_set``: images chosen once per workspace, stratified by class, never trained on;
  rows are only ever added (a trigger refuses deletes).
* ``model_decisions``: promote / rollback / discard / import, who, why, and the gate's verdict.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass

from inspector.store import clock
from inspector.store.classes import ClassIndex


@dataclass(frozen=True, slots=True)
class SnapshotItem:
    image_id: int
    role: str  # 'train' (may be learnt from) or 'eval' (the evaluation set)
    path: str
    sha256: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    id: int
    hash: str
    run_id: int | None
    parent: str | None
    summary: dict
    created_at: str
    items: tuple[SnapshotItem, ...]

    def role(self, role: str) -> list[SnapshotItem]:
        return [i for i in self.items if i.role == role]


def file_sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def snapshot_hash(items: list[SnapshotItem]) -> str:
    """sha256 over (role, content hash, labels) in a fixed order: the data, not where it lies."""
    h = hashlib.sha256()
    for it in sorted(items, key=lambda i: (i.role, i.sha256, i.labels)):
        h.update(f"{it.role}|{it.sha256}|{';'.join(it.labels)}\n".encode())
    return h.hexdigest()


def labelled_rows(
    conn: sqlite3.Connection,
) -> list[tuple[int, str, str | None, tuple[str, ...], bool]]:
    """(image id, path, stored sha256, label names, unusable) of every labelled image."""
    idx = ClassIndex(conn)
    rows = conn.execute(
        "SELECT i.id, i.path, i.sha256, c.labels, i.missing OR i.unreadable"
        " FROM current_labels c JOIN images i ON i.id = c.image_id"
        " WHERE c.labels IS NOT NULL ORDER BY i.id"
    ).fetchall()
    return [
        (iid, path, sha, idx.names_of(json.loads(labels)) or (), bool(bad))
        for iid, path, sha, labels, bad in rows
    ]


def evaluation_set(conn: sqlite3.Connection) -> dict[int, str]:
    """image id -> the class it was drawn for."""
    return dict(conn.execute("SELECT image_id, class FROM evaluation_set ORDER BY image_id"))


def add_to_evaluation_set(conn: sqlite3.Connection, picks: dict[int, str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO evaluation_set (image_id, class, added_at) VALUES (?,?,?)",
        [(iid, cls, clock.now()) for iid, cls in picks.items()],
    )


def insert_snapshot(
    conn: sqlite3.Connection,
    items: list[SnapshotItem],
    *,
    run_id: int | None,
    parent: str | None,
    summary: dict,
) -> int:
    sid = int(
        conn.execute(
            "INSERT INTO data_snapshots (hash, run_id, parent, summary, created_at)"
            " VALUES (?,?,?,?,?)",
            (snapshot_hash(items), run_id, parent, json.dumps(summary), clock.now()),
        ).lastrowid
    )
    conn.executemany(
        "INSERT INTO snapshot_items VALUES (?,?,?,?,?,?)",
        [(sid, i.image_id, i.role, i.path, i.sha256, json.dumps(list(i.labels))) for i in items],
    )
    return sid


def snapshot(conn: sqlite3.Connection, snapshot_id: int) -> Snapshot:
    row = conn.execute(
        "SELECT id, hash, run_id, parent, summary, created_at FROM data_snapshots WHERE id = ?",
        (snapshot_id,),
    ).fetchone()
    if row is None:
        raise KeyError(snapshot_id)
    items = tuple(
        SnapshotItem(iid, role, path, sha, tuple(json.loads(labels)))
        for iid, role, path, sha, labels in conn.execute(
            "SELECT image_id, role, path, sha256, labels FROM snapshot_items"
            " WHERE snapshot_id = ? ORDER BY image_id",
            (snapshot_id,),
        )
    )
    sid, h, run_id, parent, summary, created = row
    return Snapshot(sid, h, run_id, parent, json.loads(summary), created, items)


def latest_snapshot_id(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT max(id) FROM data_snapshots").fetchone()
    return None if row[0] is None else int(row[0])


def snapshot_of_run(conn: sqlite3.Connection, run_id: int) -> int | None:
    row = conn.execute("SELECT id FROM data_snapshots WHERE run_id = ?", (run_id,)).fetchone()
    return None if row is None else int(row[0])


def record_decision(
    conn: sqlite3.Connection,
    *,
    model_version: str,
    action: str,
    previous_active: str | None,
    user: str,
    role: str,
    reason: str,
    gate: dict | None,
) -> int:
    return int(
        conn.execute(
            "INSERT INTO model_decisions (model_version, action, previous_active, user, role,"
            " reason, gate, created_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                model_version,
                action,
                previous_active,
                user,
                role,
                reason,
                json.dumps(gate or {}),
                clock.now(),
            ),
        ).lastrowid
    )


_DECISION_COLUMNS = (
    "id",
    "model_version",
    "action",
    "previous_active",
    "user",
    "role",
    "reason",
    "gate",
    "created_at",
)


def decisions(conn: sqlite3.Connection) -> list[dict]:
    out = []
    for r in conn.execute(
        f"SELECT {', '.join(_DECISION_COLUMNS)} FROM model_decisions ORDER BY id"
    ):
        d = dict(zip(_DECISION_COLUMNS, r, strict=True))
        d["gate"] = json.loads(d["gate"])
        out.append(d)
    return out


def stale_runs(conn: sqlite3.Connection) -> list[tuple[int, dict]]:
    """(run id, params) of runs still marked running."""
    return [
        (rid, json.loads(params))
        for rid, params in conn.execute(
            "SELECT id, params FROM training_runs WHERE status = 'running' ORDER BY id"
        )
    ]
