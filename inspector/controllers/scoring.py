"""Jobs behind the inspectors' view: load the model, list folders, score images into the store.

Each is a job of :mod:`inspector.jobs` (plain data in and out, no widgets), so the window runs
them on its thread pool and tests run them inline with :class:`~inspector.jobs.SyncRunner`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.controllers.labels import LabelService, LabelState
from inspector.domain import ImageLoadError, InspectorError, Prediction, Progress
from inspector.jobs import CancelFn, Job, Partial, check, never

if TYPE_CHECKING:  # imported in the worker: ORT, numpy and OpenCV load off the GUI thread
    from inspector.runtime.ort import OrtPredictor

log = logging.getLogger(__name__)

#: Yield at least this often (seconds) so the GUI sees progress and results flow.
YIELD_EVERY = 0.1
#: CPU priority of the scoring threads (Linux, per thread): below the GUI thread's.
WORKER_NICE = 10
#: Paths per listed chunk: adding 2,000 rows to the gallery cost 15-30 ms of GUI-thread time
#: (the filter proxy and the view's layout), 60-110 ms on a busy machine; 500 keep each under ~10.
LIST_CHUNK = 500


def load_predictor(
    model_dir: str, service: LabelService | None, cancel: CancelFn = never
) -> OrtPredictor:
    """Create the ONNX Runtime session (seconds, CUDA probing): never on the GUI thread."""
    # Load the native libraries now, right after the window appears, in one go: dlopen holds the
    # GIL, so doing it lazily in the middle of a session would be a visible stall.
    import inspector.imageio  # noqa: F401 - numpy, OpenCV, Pillow
    from inspector.controllers.supervision import use_active_thresholds
    from inspector.runtime.ort import OrtPredictor

    # One intra-op thread: ORT's pool spin-waits, and on a 2-core line PC the GUI thread needs the
    # other core. Throughput is the scoring queue's business, latency the GUI's.
    from inspector.runtime.pipeline import CHUNK

    # graphs fixed at the folder scorer's chunk size (and 1, for single plates): faster on the CPU
    pred = OrtPredictor(model_dir, threads=1, static_batch=CHUNK)
    if service is not None:
        try:
            service.register_model(pred.version, pred.classes, pred.thresholds, str(model_dir))
            # a supervisor's threshold revision replaces the card's (issue 11)
            use_active_thresholds(pred, service.active_thresholds(pred.version))
        except InspectorError:
            log.exception("cannot register the model in the store")
    return pred


def natural_key(name: str) -> tuple:
    """Sort key that orders numbers by value: ``Cr_2`` before ``Cr_10``.

    >>> sorted(["Cr_10.bmp", "Cr_2.bmp", "cr_1.bmp"], key=natural_key)
    ['cr_1.bmp', 'Cr_2.bmp', 'Cr_10.bmp']
    """
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
        for part in re.split(r"(\d+)", name)
    )


def list_images(paths: list[str], cancel: CancelFn = never) -> Job[int]:
    """Expand files and folders (recursively) into absolute image paths, as Partial chunks.

    Returns how many paths were listed.
    """
    from inspector.imageio import is_image_file

    chunk: list[str] = []
    listed = 0
    t = time.monotonic()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                check(cancel)
                dirs.sort(key=natural_key)
                for f in sorted(files, key=natural_key):
                    if is_image_file(f):
                        chunk.append(os.path.abspath(os.path.join(root, f)))
                if chunk and (len(chunk) >= LIST_CHUNK or time.monotonic() - t > YIELD_EVERY):
                    listed += len(chunk)
                    yield Partial(chunk)
                    chunk, t = [], time.monotonic()
        else:
            chunk.append(os.path.abspath(p))
    if chunk:
        listed += len(chunk)
        yield Partial(chunk)
    return listed


@dataclass(frozen=True, slots=True)
class ScoreBatch:
    predictions: list[Prediction]
    errors: list[ImageLoadError]
    states: dict[str, LabelState]


def score_paths(
    predictor: OrtPredictor | None,
    paths: list[str],
    service: LabelService | None,
    batch_size: int = 16,
    cancel: CancelFn = never,
    workers: int | None = None,
) -> Job[int]:
    """Decode + score files (predictor may be None: only label states), record predictions.

    Decode and inference run on ``workers`` threads (:mod:`inspector.runtime.pipeline`);
    outcomes are recorded in the store and yielded as a Partial :class:`ScoreBatch` every
    ``batch_size`` files or :data:`YIELD_EVERY` seconds, whichever is later (one transaction
    per batch, and results still flow to the window). Returns how many images were scored.
    """
    total, start, scored = len(paths), 0, 0
    outcomes: Iterator[Prediction | ImageLoadError | None]
    if predictor is not None:
        from inspector.runtime.pipeline import score_in_parallel

        # one outcome per path, in order: paths[start:done] are the batch's files
        # Workers at nice 10, below the GUI thread: with two workers at normal priority the
        # window's 10 ms heartbeat stalled up to 69 ms (bench_gui; 23 ms before the pipeline).
        # They still take every cycle the GUI thread does not want.
        outcomes = score_in_parallel(
            predictor, paths, workers=workers, cancel=cancel, nice=WORKER_NICE
        )
    else:
        outcomes = iter([None] * total)
    preds: list[Prediction] = []
    errors: list[ImageLoadError] = []
    last = time.monotonic()
    for done, item in enumerate(outcomes, 1):
        check(cancel)
        if isinstance(item, ImageLoadError):
            errors.append(item)
        elif item is not None:
            preds.append(item)
        if done < total and (done - start < batch_size or time.monotonic() - last < YIELD_EVERY):
            continue
        states: dict[str, LabelState] = {}
        if service is not None:
            try:
                service.record_predictions(preds)
                states = service.states(paths[start:done])
            except InspectorError as exc:
                errors.append(ImageLoadError("", f"label store: {exc}"))
        scored += len(preds)
        yield Partial(ScoreBatch(preds, errors, states))
        yield Progress(done, total, "scoring")
        start, preds, errors, last = done, [], [], time.monotonic()
    return scored
