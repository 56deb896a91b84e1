"""Model versions and their stored predictions, and the low-confidence queue's bands.

>>> store.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
...                                                         # doctest: +SKIP
>>> store.add_predictions(preds, add_images=True)           # one transaction; doctest: +SKIP
1800
>>> store.prediction("plates/a.bmp").probabilities          # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from inspector.domain import Prediction
from inspector.store import images, predictions
from inspector.store.errors import StoreError
from inspector.store.images import ImageRef
from inspector.store.mixins.base import StoreBase
from inspector.store.records import ModelVersion


class ModelsMixin(StoreBase):
    def register_model(
        self,
        name: str,
        *,
        classes: Iterable[str],
        thresholds: Iterable[float],
        path: str = "",
        metrics: dict | None = None,
        parent: str | None = None,
        status: str = "candidate",
    ) -> ModelVersion:
        """Record a model version (idempotent; an existing one only gets path/metrics updated)."""
        with self._write() as conn:
            predictions.register(
                conn,
                name,
                classes,
                thresholds,
                path=path,
                metrics=metrics,
                parent=parent,
                status=status,
            )
        return self.model_version(name)

    def set_model_status(self, name: str, status: str) -> None:
        """candidate | active | retired; activating one retires the previously active model."""
        with self._write() as conn:
            predictions.set_status(conn, name, status)

    def model_version(self, name: str) -> ModelVersion:
        mid = predictions.model_id(self._conn, name)
        return predictions.models(self._conn)[mid]

    def model_versions(self) -> list[ModelVersion]:
        return list(predictions.models(self._conn).values())

    def active_model(self) -> ModelVersion | None:
        mid = predictions.active_model_id(self._conn)
        return None if mid is None else predictions.models(self._conn)[mid]

    def add_predictions(
        self, preds: Iterable[Prediction], *, flags: str = "", add_images: bool = False
    ) -> int:
        """Store predictions (one transaction); each must name a registered model version.

        A model version not registered yet is registered as a candidate from the first
        prediction's classes and thresholds. Unknown image paths raise unless ``add_images``.
        """
        n = 0
        with self._write() as conn:
            idx = self._classes(conn)
            band, none_band = predictions.bands(conn)
            cache: dict[str, tuple[int, ModelVersion]] = {}
            for pred in preds:
                name = pred.model_version or "unknown"
                if name not in cache:
                    mid = predictions.register(conn, name, pred.classes, pred.thresholds)
                    cache[name] = (mid, predictions.models(conn)[mid])
                mid, mv = cache[name]
                if add_images:
                    p = images.norm_path(pred.path)
                    iid = images.insert_image(
                        conn, p, None, None, None, None, "predict", not os.path.exists(p)
                    )
                else:
                    iid = images.image_id(conn, pred.path)
                predictions.upsert(conn, iid, mid, mv, pred, idx, band, none_band, flags)
                n += 1
        return n

    def prediction(self, image: ImageRef, model_version: str | None = None) -> Prediction | None:
        """The stored prediction of one model (default: the active one) for an image."""
        conn = self._conn
        mid = (
            predictions.active_model_id(conn)
            if model_version is None
            else predictions.model_id(conn, model_version)
        )
        if mid is None:
            return None
        iid = self.image_id(image)
        row = conn.execute(
            "SELECT probabilities FROM predictions WHERE image_id = ? AND model_id = ?",
            (iid, mid),
        ).fetchone()
        if row is None:
            return None
        mv = predictions.models(conn)[mid]
        path = conn.execute("SELECT path FROM images WHERE id = ?", (iid,)).fetchone()[0]
        return Prediction(path, mv.classes, tuple(json.loads(row[0])), mv.thresholds, mv.name)

    def set_low_confidence_bands(self, band: float, none_over_band: float) -> int:
        """Configure the low-confidence queue; rescores all stored predictions (one transaction)."""
        if not (0 < band < 1 and 0 < none_over_band < 1):
            raise StoreError("bands must be between 0 and 1")
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO settings VALUES (?, ?)",
                [("low_conf_band", str(band)), ("none_over_band", str(none_over_band))],
            )
            return predictions.rescore_doubt(conn, band, none_over_band)
