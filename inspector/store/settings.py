"""The ``settings`` table: small key/value facts about a workspace (queue bands, markers).

Functions over a connection the caller holds (inside its transaction for writes).
"""

from __future__ import annotations

import sqlite3


def get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def get_many(conn: sqlite3.Connection, keys: list[str]) -> dict[str, str]:
    marks = ", ".join("?" * len(keys))
    return dict(conn.execute(f"SELECT key, value FROM settings WHERE key IN ({marks})", keys))


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))
