"""The ``training_runs`` table: started, finished (with metrics and the version produced), listed.

Functions over a connection the caller holds.
"""

from __future__ import annotations

import json
import sqlite3

from inspector.store import clock

_COLUMNS = ("id", "model_version", "parent", "status", "params", "metrics", "started_at")
_COLUMNS += ("finished_at",)


def start(conn: sqlite3.Connection, *, params: dict | None, parent: str | None) -> int:
    return int(
        conn.execute(
            "INSERT INTO training_runs (parent, params, started_at) VALUES (?,?,?)",
            (parent, json.dumps(params or {}), clock.now()),
        ).lastrowid
    )


def finish(
    conn: sqlite3.Connection,
    run_id: int,
    *,
    status: str,
    metrics: dict | None,
    model_version: str | None,
) -> None:
    conn.execute(
        "UPDATE training_runs SET status = ?, metrics = ?, model_version = ?, finished_at = ?"
        " WHERE id = ?",
        (status, json.dumps(metrics or {}), model_version, clock.now(), run_id),
    )


def all_runs(conn: sqlite3.Connection) -> list[dict]:
    out = []
    for r in conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM training_runs ORDER BY id"):
        d = dict(zip(_COLUMNS, r, strict=True))
        d["params"], d["metrics"] = json.loads(d["params"]), json.loads(d["metrics"])
        out.append(d)
    return out
