"""Image rows: how paths are stored, finding an image by id or path, inserting one.

Functions over a connection the caller holds, shared by the store's methods and the importers
(which insert thousands of images inside one transaction).

>>> norm_path("plates/a.bmp")                                  # doctest: +SKIP
'/home/ana/plates/a.bmp'
"""

from __future__ import annotations

import os
import sqlite3

from inspector.store import events
from inspector.store.errors import UnknownImageError
from inspector.store.records import ImageRecord

#: An image as callers name it: its id, or its path (normalised with :func:`norm_path`).
ImageRef = int | str | os.PathLike[str]

IMAGE_COLUMNS = "id, path, sha256, size, width, height, added_at, source, missing"


def norm_path(path: str | os.PathLike[str]) -> str:
    """How image paths are stored: absolute, not symlink-resolved (a link is its own image)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def to_record(row: tuple) -> ImageRecord:
    """An ``SELECT {IMAGE_COLUMNS}`` row as a record."""
    return ImageRecord(*row[:8], missing=bool(row[8]))


def image_id(conn: sqlite3.Connection, image: ImageRef) -> int:
    """The id of an image given its id or path; :class:`UnknownImageError` otherwise."""
    if isinstance(image, int):
        row = conn.execute("SELECT id FROM images WHERE id = ?", (image,)).fetchone()
    else:
        row = conn.execute("SELECT id FROM images WHERE path = ?", (norm_path(image),)).fetchone()
    if row is None:
        raise UnknownImageError(f"image {image} is not in the workspace")
    return int(row[0])


def insert_image(
    conn: sqlite3.Connection,
    p: str,
    sha256: str | None,
    size: int | None,
    width: int | None,
    height: int | None,
    source: str,
    missing: bool,
) -> int:
    """Insert an image (``p`` already normalised) or return the id it already has."""
    row = conn.execute("SELECT id FROM images WHERE path = ?", (p,)).fetchone()
    if row is not None:
        return int(row[0])
    iid = int(
        conn.execute(
            "INSERT INTO images (path, sha256, size, width, height, added_at, source, missing)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (p, sha256, size, width, height, events.now(), source, int(missing)),
        ).lastrowid
    )
    # Every image has its current_labels row from the start (unlabelled), so pages can drive
    # from current_labels alone.
    conn.execute("INSERT INTO current_labels (image_id) VALUES (?)", (iid,))
    return iid
