"""Run core jobs (:mod:`inspector.jobs`) off the GUI thread: progress, partials, cancel, errors.

Why our own ~150 lines on ``QThreadPool`` + ``QRunnable`` rather than superqt's ``thread_worker``:

* **Stale results are dropped by request id, centrally.** Every job belongs to a *channel*
  ("image", "score", "explain", ...). Submitting to a channel cancels the previous job of that
  channel and bumps its request id; results carrying an older id never reach a slot. With
  ``thread_worker`` each call site would re-implement that bookkeeping.
* **One protocol.** A job is called as ``fn(*args, cancel=..., **kwargs)``; a generator's
  :class:`~inspector.domain.Progress` goes to ``on_progress``, its
  :class:`~inspector.jobs.Partial` values to ``on_partial``, its return value to ``on_result``.
  Cancellation is cooperative: the job's ``cancel()`` turns true and the runner also stops
  iterating between two items; :class:`~inspector.jobs.Cancelled` ends a job quietly. Nothing is
  ever terminated.
* **One error path.** An :class:`~inspector.domain.InspectorError` (an expected problem) goes to
  the job's ``on_error``; anything else is a bug and goes to :func:`sys.excepthook` (log + one
  dialog), so no call site needs its own "is this a bug?" test.
* **Bounded pools.** The machine has 2 cores shared with training; a private ``QThreadPool`` per
  runner keeps thumbnails, scoring and SHAP from oversubscribing the CPU, and
  :meth:`Runner.shutdown` can wait for exactly our threads (tests check none are left running).

Usage::

    runner = Runner(parent)
    runner.submit("image", load_image, path, on_result=show, on_error=report)
    runner.submit("score", score_paths, predictor, paths,
                  on_partial=add_batch, on_progress=progress_bar.update)
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from inspector.domain import InspectorError, Progress
from inspector.gui.qtcompat import emit
from inspector.jobs import Cancelled, Partial

log = logging.getLogger(__name__)


class _Token:
    """A job's cancel flag; the job sees only its ``is_set`` bound method (a CancelFn)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class _Job:
    channel: str
    request_id: int
    cancel: _Token
    on_result: Callable[[Any], None] | None = None
    on_partial: Callable[[Any], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    on_error: Callable[[InspectorError], None] | None = None
    on_finished: Callable[[], None] | None = None


class _Task(QRunnable):
    def __init__(self, runner: Runner, job: _Job, fn: Callable, args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._runner, self._job, self._fn = runner, job, fn
        self._args, self._kwargs = args, kwargs

    def run(self) -> None:  # worker thread
        job, sig = self._job, self._runner._signals
        key = (job.channel, job.request_id)
        try:
            out = self._fn(*self._args, cancel=job.cancel.is_set, **self._kwargs)
            if inspect.isgenerator(out):
                out = self._drive(out, key)
            if not job.cancel.is_set():
                emit(sig.result, key, out)
        except Cancelled:
            pass
        except Exception as exc:  # the error path of every job: reported, never swallowed
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            emit(sig.error, key, exc)
        finally:
            emit(sig.finished, key)

    def _drive(self, gen: Generator[Any, None, Any], key: tuple[str, int]) -> Any:
        sig, cancel = self._runner._signals, self._job.cancel
        try:
            while not cancel.is_set():
                try:
                    item = next(gen)
                except StopIteration as stop:
                    return stop.value
                if isinstance(item, Progress):
                    emit(sig.progress, key, item)
                elif isinstance(item, Partial):
                    emit(sig.partial, key, item.value)
                else:
                    raise TypeError(f"job {key[0]!r} yielded a {type(item).__name__}")
            raise Cancelled
        finally:
            gen.close()


class _Signals(QObject):
    # (channel, request id) travels with every payload; queued across threads to the GUI thread.
    progress = Signal(object, object)
    partial = Signal(object, object)
    result = Signal(object, object)
    error = Signal(object, object)
    finished = Signal(object)


#: A GUI-thread callback slower than this is logged: it is a stall the user feels.
SLOW_CALLBACK_MS = 40.0
#: GUI-thread time spent on job callbacks per event-loop turn before the rest waits a turn.
DRAIN_BUDGET_S = 0.008


def _timed(key: tuple[str, int], fn: Callable[[Any], None], arg: Any) -> None:
    t = time.perf_counter()
    fn(arg)
    ms = (time.perf_counter() - t) * 1000
    if ms > SLOW_CALLBACK_MS:
        log.warning(
            "slow GUI callback for job %r: %.0f ms in %s",
            key[0],
            ms,
            getattr(fn, "__qualname__", fn),
        )


_RUNNERS: weakref.WeakSet[Runner] = weakref.WeakSet()


def active_worker_threads() -> int:
    """Threads busy in any Runner's pool (tests assert this drops to 0 after each test)."""
    n = 0
    for r in list(_RUNNERS):
        try:
            n += r.pool.activeThreadCount()
        except RuntimeError:  # the C++ pool is already gone
            continue
    return n


class Runner(QObject):
    """Submit jobs to a private thread pool; callbacks run on the GUI thread, stale ones dropped."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._signals = _Signals(self)
        self._current: dict[str, int] = {}
        self._jobs: dict[tuple[str, int], _Job] = {}
        # Deliveries from the workers only queue a callback here; _drain runs the callbacks a few
        # milliseconds at a time, so a burst of results (a screenful of thumbnails, the first
        # score batches) never holds the event loop for the sum of their callbacks.
        self._inbox: deque[tuple[Callable[..., None], tuple]] = deque()
        self._drainer = QTimer(self)
        self._drainer.setSingleShot(True)
        self._drainer.setInterval(1)  # > 0: due timers (repaints, the user's keys) run between
        self._drainer.timeout.connect(self._drain)
        # bound methods of this QObject: Qt queues the deliveries to the GUI thread
        self._signals.progress.connect(self._queue_progress)
        self._signals.partial.connect(self._queue_partial)
        self._signals.result.connect(self._queue_result)
        self._signals.error.connect(self._queue_error)
        self._signals.finished.connect(self._queue_finished)
        _RUNNERS.add(self)

    # -- API ------------------------------------------------------------------------------------
    def submit(
        self,
        channel: str,
        fn: Callable[..., Any],
        *args: Any,
        on_progress: Callable[[Progress], None] | None = None,
        on_partial: Callable[[Any], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[InspectorError], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        latest_only: bool = True,
        **kwargs: Any,
    ) -> None:
        """Run ``fn(*args, cancel=..., **kwargs)`` in the pool (see the module docstring).

        ``latest_only``: cancel the channel's previous job and ignore anything it still sends.
        """
        if latest_only:
            self.cancel(channel)
        rid = self._current.get(channel, 0) + 1
        self._current[channel] = rid
        job = _Job(
            channel, rid, _Token(), on_result, on_partial, on_progress, on_error, on_finished
        )
        was_idle = not self._jobs
        self._jobs[(channel, rid)] = job
        self.pool.start(_Task(self, job, fn, args, kwargs))
        if was_idle:
            emit(self.busy_changed, True)

    def cancel(self, channel: str) -> None:
        for (ch, _), job in list(self._jobs.items()):
            if ch == channel:
                job.cancel.set()

    def is_running(self, channel: str) -> bool:
        return any(ch == channel for ch, _ in self._jobs)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait for our threads; True when they all stopped."""
        for job in self._jobs.values():
            job.cancel.set()
        self.pool.clear()
        return self.pool.waitForDone(timeout_ms)

    # -- GUI-thread side --------------------------------------------------------------------------
    def _queue_progress(self, key: tuple[str, int], p: Progress) -> None:
        self._post(self._on_progress, key, p)

    def _queue_partial(self, key: tuple[str, int], value: Any) -> None:
        self._post(self._on_partial, key, value)

    def _queue_result(self, key: tuple[str, int], value: Any) -> None:
        self._post(self._on_result, key, value)

    def _queue_error(self, key: tuple[str, int], exc: BaseException) -> None:
        self._post(self._on_error, key, exc)

    def _queue_finished(self, key: tuple[str, int]) -> None:
        self._post(self._on_finished, key)

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        self._inbox.append((fn, args))
        if not self._drainer.isActive():
            self._drainer.start()

    def _drain(self) -> None:
        """Run queued callbacks, in order, for at most DRAIN_BUDGET_S; the rest on the next turn."""
        end = time.perf_counter() + DRAIN_BUDGET_S
        while self._inbox and time.perf_counter() < end:
            fn, args = self._inbox.popleft()
            try:
                fn(*args)
            except Exception as exc:  # a bug in a callback: report it, keep delivering the rest
                sys.excepthook(type(exc), exc, exc.__traceback__)
        if self._inbox:
            self._drainer.start()

    def _live(self, key: tuple[str, int]) -> _Job | None:
        job = self._jobs.get(key)
        if job is None or job.cancel.is_set():
            return None
        return job

    def _on_progress(self, key: tuple[str, int], p: Progress) -> None:
        job = self._live(key)
        if job and job.on_progress:
            _timed(key, job.on_progress, p)

    def _on_partial(self, key: tuple[str, int], item: Any) -> None:
        job = self._live(key)
        if job and job.on_partial:
            _timed(key, job.on_partial, item)

    def _on_result(self, key: tuple[str, int], value: Any) -> None:
        job = self._live(key)
        if job and job.on_result:
            _timed(key, job.on_result, value)

    def _on_error(self, key: tuple[str, int], exc: BaseException) -> None:
        job = self._jobs.get(key)
        if job is None or job.cancel.is_set():
            return
        if job.on_error is not None and isinstance(exc, InspectorError):
            job.on_error(exc)
            return
        # a bug, or an expected problem nobody handles: the one handler (log + one dialog)
        log.error("job %s failed:\n%s", key[0], getattr(exc, "__traceback_text__", exc))
        sys.excepthook(type(exc), exc, exc.__traceback__)

    def _on_finished(self, key: tuple[str, int]) -> None:
        job = self._jobs.pop(key, None)
        if job and job.on_finished and not job.cancel.is_set():
            job.on_finished()
        if not self._jobs:
            emit(self.busy_changed, False)
