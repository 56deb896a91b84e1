"""Image methods: add one, look one up, re-check files on disk, VOC boxes.

>>> img = store.add_image("plates/a.bmp")                   # doctest: +SKIP
>>> store.image(img).missing, store.boxes(img)              # doctest: +SKIP
(False, [])
"""

from __future__ import annotations

import os

from inspector.store import images
from inspector.store.images import IMAGE_COLUMNS, ImageRef
from inspector.store.mixins.base import StoreBase
from inspector.store.records import Box, ImageRecord


class ImagesMixin(StoreBase):
    def add_image(
        self,
        path: str | os.PathLike[str],
        *,
        sha256: str | None = None,
        size: int | None = None,
        width: int | None = None,
        height: int | None = None,
        source: str = "",
        missing: bool | None = None,
    ) -> int:
        """Add one image (or return the id it already has). Bulk adds go through the importers."""
        p = images.norm_path(path)
        if missing is None:
            missing = not os.path.exists(p)
        with self._write() as conn:
            return images.insert_image(conn, p, sha256, size, width, height, source, missing)

    def image(self, image: ImageRef) -> ImageRecord:
        row = self._conn.execute(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE id = ?", (self.image_id(image),)
        ).fetchone()
        return images.to_record(row)

    def find_by_sha256(self, sha256: str) -> list[ImageRecord]:
        return [
            images.to_record(r)
            for r in self._conn.execute(
                f"SELECT {IMAGE_COLUMNS} FROM images WHERE sha256 = ? ORDER BY id", (sha256,)
            )
        ]

    def refresh_missing(self) -> int:
        """Re-check every image file on disk; return how many are missing now."""
        rows = self._conn.execute("SELECT id, path, missing FROM images").fetchall()
        # Stat the files outside the write transaction: it may take a while on a network share.
        changes = [
            (int(not os.path.exists(p)), i) for i, p, m in rows if bool(m) == os.path.exists(p)
        ]
        if changes:
            with self._write() as conn:
                conn.executemany("UPDATE images SET missing = ? WHERE id = ?", changes)
        return int(self._conn.execute("SELECT count(*) FROM images WHERE missing").fetchone()[0])

    def boxes(self, image: ImageRef) -> list[Box]:
        """The image's bounding boxes (from Pascal VOC imports), in import order."""
        idx = self._classes()
        iid = self.image_id(image)
        return [
            Box(iid, idx.by_id[c][0], *rest)
            for c, *rest in self._conn.execute(
                "SELECT class_id, xmin, ymin, xmax, ymax, source FROM boxes WHERE image_id = ?"
                " ORDER BY id",
                (iid,),
            )
        ]
