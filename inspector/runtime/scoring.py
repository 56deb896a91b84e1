"""Scoring files as a job (:mod:`inspector.jobs`): the CLI's ``predict`` and any caller that
wants progress, per-file results as they come, and cancel.

>>> summary = run(score_files(predictor, files), on_partial=show)   # doctest: +SKIP
>>> summary.scored, summary.failed                                  # doctest: +SKIP
(118, 2)

Each file's outcome is a :class:`~inspector.jobs.Partial`: a
:class:`~inspector.domain.Prediction`, or the :class:`~inspector.domain.ImageLoadError` (or
:class:`~inspector.domain.PredictionError`, for NaN scores) that says why it has none.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.domain import ImageLoadError, Progress
from inspector.jobs import CancelFn, Job, Partial, check, never

#: Files per step: at ~10 ms a file, progress and cancel are looked at about every 100 ms.
STEP = 8


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    scored: int
    failed: int


def score_files(
    predictor,
    paths: Sequence[str | os.PathLike[str]],
    batch_size: int = 32,
    cancel: CancelFn = never,
) -> Job[ScoreSummary]:
    """Decode and score ``paths`` with an :class:`~inspector.runtime.ort.OrtPredictor`."""
    total, failed = len(paths), 0
    step = max(1, min(batch_size, STEP))
    for start in range(0, total, step):
        check(cancel)
        for item in predictor.predict_paths(paths[start : start + step], batch_size=step):
            failed += isinstance(item, ImageLoadError)
            yield Partial(item)
        yield Progress(min(start + step, total), total, "scoring")
    return ScoreSummary(total - failed, failed)
