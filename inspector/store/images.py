"""The ``images`` table: how paths are stored, finding an image by id or path, inserting one,
recording what an import learnt about its file.

Functions over a connection the caller holds, shared by the store's methods and the importers
(which insert thousands of images inside one transaction). Paths are stored absolute and not
symlink-resolved (a link is its own image), so the same spelling always finds the same row.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from inspector.store import clock
from inspector.store.errors import UnknownImageError
from inspector.store.records import ImageRecord

#: An image as callers name it: its id, or its path (normalised with :func:`norm_path`).
ImageRef = int | str | os.PathLike[str]

IMAGE_COLUMNS = "id, path, sha256, size, width, height, added_at, source, missing, unreadable"


@dataclass(slots=True)
class FileFacts:
    """What reading an image file told us (``None``: not known)."""

    sha256: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    missing: bool = False
    unreadable: bool = False


def norm_path(path: str | os.PathLike[str]) -> str:
    """How image paths are stored: absolute, not symlink-resolved (a link is its own image)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def to_record(row: tuple) -> ImageRecord:
    """An ``SELECT {IMAGE_COLUMNS}`` row as a record."""
    return ImageRecord(*row[:8], missing=bool(row[8]), unreadable=bool(row[9]))


def image_id(conn: sqlite3.Connection, image: ImageRef) -> int:
    """The id of an image given its id or path; :class:`UnknownImageError` otherwise."""
    if isinstance(image, int):
        row = conn.execute("SELECT id FROM images WHERE id = ?", (image,)).fetchone()
    else:
        row = conn.execute("SELECT id FROM images WHERE path = ?", (norm_path(image),)).fetchone()
    if row is None:
        raise UnknownImageError(f"image {image} is not in the workspace")
    return int(row[0])


def find(conn: sqlite3.Connection, path: str) -> int | None:
    """The id of the image stored under ``path`` (already normalised), or None."""
    row = conn.execute("SELECT id FROM images WHERE path = ?", (path,)).fetchone()
    return None if row is None else int(row[0])


def path_with_sha256(conn: sqlite3.Connection, sha256: str) -> str | None:
    """The path of some image with these exact bytes, or None."""
    row = conn.execute("SELECT path FROM images WHERE sha256 = ? LIMIT 1", (sha256,)).fetchone()
    return None if row is None else str(row[0])


def record(conn: sqlite3.Connection, image: ImageRef) -> ImageRecord:
    row = conn.execute(
        f"SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id(conn, image),)
    ).fetchone()
    return to_record(row)


def insert_image(conn: sqlite3.Connection, p: str, facts: FileFacts, source: str) -> int:
    """Insert an image (``p`` already normalised) or return the id it already has."""
    found = find(conn, p)
    if found is not None:
        return found
    iid = int(
        conn.execute(
            "INSERT INTO images (path, sha256, size, width, height, added_at, source, missing,"
            " unreadable) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                p,
                facts.sha256,
                facts.size,
                facts.width,
                facts.height,
                clock.now(),
                source,
                int(facts.missing),
                int(facts.unreadable),
            ),
        ).lastrowid
    )
    # Every image has its current_labels row from the start (unlabelled), so pages can drive
    # from current_labels alone.
    conn.execute("INSERT INTO current_labels (image_id) VALUES (?)", (iid,))
    return iid


def update_facts(conn: sqlite3.Connection, iid: int, facts: FileFacts) -> None:
    """Record a fresh look at an image's file; unknown facts keep what was stored."""
    conn.execute(
        "UPDATE images SET missing = ?, unreadable = ?, sha256 = coalesce(?, sha256),"
        " size = coalesce(?, size), width = coalesce(?, width), height = coalesce(?, height)"
        " WHERE id = ?",
        (
            int(facts.missing),
            int(facts.unreadable),
            facts.sha256,
            facts.size,
            facts.width,
            facts.height,
            iid,
        ),
    )


def refresh_missing(conn_read: sqlite3.Connection) -> list[tuple[int, int]]:
    """(missing now, id) for every image whose file appeared or vanished since last looked.

    Reads and stats only (it may take a while on a network share): apply the result with
    :func:`set_missing` inside a write transaction.
    """
    rows = conn_read.execute("SELECT id, path, missing FROM images").fetchall()
    return [(int(not os.path.exists(p)), i) for i, p, m in rows if bool(m) == os.path.exists(p)]


def set_missing(conn: sqlite3.Connection, changes: list[tuple[int, int]]) -> None:
    conn.executemany("UPDATE images SET missing = ? WHERE id = ?", changes)


def count_missing(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM images WHERE missing").fetchone()[0])
