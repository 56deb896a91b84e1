"""The review views' reads: gallery pages and counts, top losses, the low-confidence queue.

>>> store.page(ImageFilter(status="unlabelled"), limit=200)   # doctest: +SKIP
>>> store.top_losses(limit=50)                                # doctest: +SKIP
>>> with store.snapshot():                                    # doctest: +SKIP
...     rows, n = store.page(f), store.count(f)
"""

from __future__ import annotations

from inspector.store import queries
from inspector.store.mixins.base import StoreBase
from inspector.store.records import ImageRow


class QueriesMixin(StoreBase):
    def page(
        self,
        filt: queries.ImageFilter | None = None,
        *,
        limit: int = 200,
        offset: int = 0,
        after_id: int | None = None,
    ) -> list[ImageRow]:
        """One page of images in id order; see :class:`~inspector.store.queries.ImageFilter`."""
        return queries.page(
            self._conn, filt or queries.ImageFilter(), limit=limit, offset=offset, after_id=after_id
        )

    def count(self, filt: queries.ImageFilter | None = None) -> int:
        return queries.count(self._conn, filt or queries.ImageFilter())

    def top_losses(
        self, *, limit: int = 200, offset: int = 0, model_version: str | None = None
    ) -> list[ImageRow]:
        """Labelled images by descending BCE of the (active) model against the human label."""
        return queries.top_losses(
            self._conn, limit=limit, offset=offset, model_version=model_version
        )

    def low_confidence(
        self, *, limit: int = 200, offset: int = 0, model_version: str | None = None
    ) -> list[ImageRow]:
        """Unreviewed images whose (active) prediction is near a threshold, most doubtful first."""
        return queries.low_confidence(
            self._conn, limit=limit, offset=offset, model_version=model_version
        )

    def class_counts(self) -> dict[str, int]:
        """Images currently labelled with each class, plus ``"no defect"`` and ``"unlabelled"``."""
        return queries.class_counts(self._conn)

    def training_snapshot(
        self, *, include_missing: bool = False
    ) -> list[tuple[str, tuple[str, ...]]]:
        """(path, labels) of every labelled image, read from one consistent snapshot."""
        with self._pool.snapshot() as conn:
            return queries.labelled(conn, include_missing=include_missing)
