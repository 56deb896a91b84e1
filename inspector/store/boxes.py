"""The ``boxes`` table: Pascal VOC bounding boxes per image, replaced per source file.

Functions over a connection the caller holds (inside its transaction for writes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from inspector.store import clock
from inspector.store.classes import ClassIndex
from inspector.store.records import Box

#: (class name, xmin, ymin, xmax, ymax) as parsed from an XML file.
RawBox = tuple[str, int, int, int, int]


def replace(
    conn: sqlite3.Connection, image_id: int, source: str, boxes: Sequence[RawBox], idx: ClassIndex
) -> int:
    """Set the boxes ``source`` gives an image; re-importing a file replaces, never doubles."""
    conn.execute("DELETE FROM boxes WHERE image_id = ? AND source = ?", (image_id, source))
    ts = clock.now()
    conn.executemany(
        "INSERT INTO boxes (image_id, class_id, xmin, ymin, xmax, ymax, source, added_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [(image_id, idx.id_of(b[0]), *b[1:], source, ts) for b in boxes],
    )
    return len(boxes)


def of_image(conn: sqlite3.Connection, image_id: int, idx: ClassIndex) -> list[Box]:
    """The image's boxes in import order, labelled with today's class names."""
    return [
        Box(image_id, idx.by_id[c][0], *rest)
        for c, *rest in conn.execute(
            "SELECT class_id, xmin, ymin, xmax, ymax, source FROM boxes WHERE image_id = ?"
            " ORDER BY id",
            (image_id,),
        )
    ]
