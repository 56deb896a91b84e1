"""Score many files fast: decode and inference of several chunks at once, results in order.

>>> for item in score_in_parallel(predictor, paths):        # doctest: +SKIP
...     show(item)            # a Prediction, or the ImageLoadError saying why the file has none

Each worker thread takes a chunk of paths and runs the predictor's own ``predict_paths`` on it
(decode, preprocess, ``session.run``, the NaN check), so the outcome of every file is exactly
what sequential scoring gives. OpenCV, the BMP decoder's numpy and ONNX Runtime release the
GIL, so while one worker decodes, the other runs the network. Measured on 2 cores
(``benchmarks/bench_folder.py``): two workers on a session with one intra-op thread each beat
one worker on a two-thread session, because ORT's thread pool spin-waits between operators and
loses a core to any decode next to it; small batches (4-8) beat 32 or 64 (the activations
stay in cache), and graphs with the batch axis fixed beat dynamic ones
(:mod:`inspector.runtime.shapes`). :func:`folder_predictor` opens the session that way.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from inspector.domain import ImageLoadError, Prediction
from inspector.jobs import CancelFn, check, never

#: Files per chunk (one ``session.run``). On 2 cores, one intra-op thread, static shapes, the
#: shipped Lite0 cost 2.2-2.3 ms of CPU per image at batch 3-6, 2.4-2.5 at 8, 2.8 at 1 and 16.
CHUNK = 4


def _lower_priority(nice: int) -> None:
    """Pool initializer: make this worker thread ``nice`` steps less urgent than its creator.

    On Linux the nice value is per thread (``man 2 setpriority``), so only the worker is
    lowered; elsewhere this does nothing.
    """
    if nice > 0 and sys.platform.startswith("linux"):
        tid = threading.get_native_id()
        with contextlib.suppress(OSError):  # setpriority takes an absolute value: add to ours
            os.setpriority(
                os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice)
            )


def default_workers() -> int:
    """One worker per core (at most 4: more only adds memory and queueing)."""
    return max(1, min(4, os.cpu_count() or 1))


def folder_predictor(model_dir: str | os.PathLike[str], device: str = "auto"):
    """An :class:`~inspector.runtime.ort.OrtPredictor` set up for :func:`score_in_parallel`.

    On the CPU, one intra-op thread per session and the parallelism from the workers (see the
    module's docstring for the measurement), and graphs with the batch fixed at :data:`CHUNK`
    (:mod:`inspector.runtime.shapes`); on CUDA the GPU does the work and the workers keep it fed.
    """
    from inspector.runtime.ort import OrtPredictor

    return OrtPredictor(model_dir, device=device, threads=1, static_batch=CHUNK)


def _names(path: str | os.PathLike[str]) -> set[str]:
    return {os.fspath(path), str(Path(path)), os.path.abspath(path)}


def in_path_order(
    paths: Sequence[str | os.PathLike[str]], outcomes: list[Prediction | ImageLoadError]
) -> list[Prediction | ImageLoadError]:
    """Put one batch's outcomes in the order of its paths.

    ``predict_paths`` yields a file's decode error at once and the batch's scores when the batch
    is full, so within a batch errors come first. Both keep the paths' order, so the errors
    are matched to their paths in one forward pass; if they cannot be (a predictor that names
    files differently), the batch is returned as it came rather than guessed at.
    """
    errors = [o for o in outcomes if isinstance(o, ImageLoadError) and o.path]
    if not errors or len(outcomes) != len(paths):
        return outcomes
    bad: set[int] = set()
    i = 0
    for err in errors:
        while i < len(paths) and err.path not in _names(paths[i]):
            i += 1
        if i == len(paths):
            return outcomes
        bad.add(i)
        i += 1
    errs = iter(errors)
    scores = iter(o for o in outcomes if not (isinstance(o, ImageLoadError) and o.path))
    return [next(errs) if k in bad else next(scores) for k in range(len(paths))]


def score_in_parallel(
    predictor,
    paths: Sequence[str | os.PathLike[str]],
    chunk: int = CHUNK,
    workers: int | None = None,
    cancel: CancelFn = never,
    nice: int = 0,
) -> Iterator[Prediction | ImageLoadError]:
    """Yield one outcome per path, in the order of ``paths``; a bad file yields its error.

    (Sequential ``predict_paths`` yields a batch's decode errors before its scores; here every
    outcome is where its path is, see :func:`in_path_order`.)

    At most ``2 * workers`` chunks are decoded ahead of the consumer, so memory stays bounded
    for any folder size. ``cancel`` is looked at between chunks; closing the generator (or a
    cancel) drops the chunks not yet started and waits only for the ones running. ``nice`` > 0
    lowers the worker threads' CPU priority (Linux): for a GUI that must stay responsive.
    """
    workers = workers or default_workers()
    chunk = max(1, chunk)

    def work(part: Sequence[str | os.PathLike[str]]) -> list[Prediction | ImageLoadError]:
        return in_path_order(part, list(predictor.predict_paths(part, batch_size=len(part))))

    if workers == 1:  # no threads: the same outcomes, nothing to hand over
        for start in range(0, len(paths), chunk):
            check(cancel)
            yield from work(paths[start : start + chunk])
        return

    pool = ThreadPoolExecutor(
        workers, "inspector-score", initializer=_lower_priority, initargs=(nice,)
    )
    pending: deque[Future[list[Prediction | ImageLoadError]]] = deque()
    try:
        for start in range(0, len(paths), chunk):
            check(cancel)
            pending.append(pool.submit(work, paths[start : start + chunk]))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            check(cancel)
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
