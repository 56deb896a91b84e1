"""Predictions with unfamiliar-plate scores before the model gives them (issue 16): the tiny
real model, wrapped so that chosen plates come back with a score over the threshold (or NaN)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from inspector.domain import Prediction

#: The threshold the wrapped model "was calibrated with".
THRESHOLD = 2.0


class UnfamiliarScores:
    """Acts as the wrapped predictor; ``scores`` maps file names to the unfamiliar score their
    predictions carry (a name not in it: 0.5, familiar). ``threshold=None`` = an old model."""

    def __init__(
        self, inner: Any, scores: dict[str, float], threshold: float | None = THRESHOLD
    ) -> None:
        self.inner = inner
        self.scores = scores
        self.threshold = threshold

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def predict_paths(self, paths: Iterable[str], batch_size: int = 32) -> Iterator[Any]:
        for item in self.inner.predict_paths(paths, batch_size=batch_size):
            if isinstance(item, Prediction) and self.threshold is not None:
                item = dataclasses.replace(
                    item,
                    unfamiliar=self.scores.get(Path(item.path).name, 0.5),
                    unfamiliar_threshold=self.threshold,
                )
            yield item


def mark_unfamiliar(store: Any, scores: dict[str, float], model: str = "m1") -> None:
    """Score stored plates again, through the store's real API, as unfamiliar (``scores``:
    path -> unfamiliar score, NaN allowed), keeping their probabilities."""
    preds = [store.prediction(path, model) for path in scores]
    store.add_predictions(
        dataclasses.replace(p, unfamiliar=scores[p.path], unfamiliar_threshold=THRESHOLD)
        for p in preds
    )
