"""Run core functions and generators off the GUI thread: progress, cancel, errors, stale drops.

Why our own ~150 lines on ``QThreadPool`` + ``QRunnable`` rather than superqt's ``thread_worker``:

* **Stale results are dropped by request id, centrally.** Every job belongs to a *channel*
  ("image", "score", "explain", ...). Submitting to a channel cancels the previous job of that
  channel and bumps its request id; results carrying an older id never reach a slot. With
  ``thread_worker`` each call site would re-implement that bookkeeping.
* **Cancellation is cooperative and explicit.** The job receives a :class:`Cancel` token (a
  ``threading.Event``) and the runner also stops iterating a generator between two items, so a
  core generator needs no Qt at all. Nothing is ever terminated.
* **Bounded pools.** The machine has 2 cores shared with training; a private ``QThreadPool`` per
  runner (max 2 threads) keeps thumbnails, scoring and SHAP from oversubscribing the CPU, and
  :meth:`Runner.shutdown` can wait for exactly our threads (tests check none are left running).

Usage::

    runner = Runner(parent)
    runner.submit("image", load_image, path, on_result=show, on_error=report)
    runner.submit("score", score_paths, predictor, paths,
                  on_yield=add_batch, on_progress=progress_bar.update)
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from inspector.domain import Progress
from inspector.gui.qtcompat import emit

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a job by :meth:`Cancel.check` when the job was cancelled."""


class Cancel:
    """Cancellation token handed to every job (first positional argument when ``wants_cancel``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled


@dataclass
class _Job:
    channel: str
    request_id: int
    cancel: Cancel
    on_result: Callable[[Any], None] | None = None
    on_yield: Callable[[Any], None] | None = None
    on_progress: Callable[[Progress], None] | None = None
    on_error: Callable[[BaseException], None] | None = None
    on_finished: Callable[[], None] | None = None
    extra: dict = field(default_factory=dict)


class _Task(QRunnable):
    def __init__(
        self, runner: Runner, job: _Job, fn: Callable, args: tuple, kwargs: dict, wants_cancel: bool
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._runner, self._job, self._fn = runner, job, fn
        self._args, self._kwargs, self._wants_cancel = args, kwargs, wants_cancel

    def run(self) -> None:  # worker thread
        job, sig = self._job, self._runner._signals
        key = (job.channel, job.request_id)
        try:
            args = (job.cancel, *self._args) if self._wants_cancel else self._args
            out = self._fn(*args, **self._kwargs)
            if inspect.isgenerator(out):
                try:
                    for item in out:
                        if job.cancel.is_set:
                            break
                        if isinstance(item, Progress):
                            emit(sig.progress, key, item)
                        else:
                            emit(sig.yielded, key, item)
                finally:
                    out.close()
                out = None
            if not job.cancel.is_set:
                emit(sig.result, key, out)
        except Cancelled:
            pass
        except Exception as exc:  # the error path of every job: reported, never swallowed
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            emit(sig.error, key, exc)
        finally:
            emit(sig.finished, key)


class _Signals(QObject):
    # (channel, request id) travels with every payload; queued across threads to the GUI thread.
    progress = Signal(object, object)
    yielded = Signal(object, object)
    result = Signal(object, object)
    error = Signal(object, object)
    finished = Signal(object)


#: A GUI-thread callback slower than this is logged: it is a stall the user feels.
SLOW_CALLBACK_MS = 40.0


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
        self._signals.progress.connect(self._on_progress)
        self._signals.yielded.connect(self._on_yielded)
        self._signals.result.connect(self._on_result)
        self._signals.error.connect(self._on_error)
        self._signals.finished.connect(self._on_finished)
        _RUNNERS.add(self)

    # -- API ------------------------------------------------------------------------------------
    def submit(
        self,
        channel: str,
        fn: Callable,
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_yield: Callable[[Any], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        wants_cancel: bool = False,
        latest_only: bool = True,
        **kwargs: Any,
    ) -> Cancel:
        """Run ``fn(*args)`` (or ``fn(cancel, *args)``) in the pool; return its cancel token.

        ``latest_only``: cancel the channel's previous job and ignore anything it still sends.
        A generator's :class:`Progress` items go to ``on_progress``, other items to ``on_yield``.
        """
        if latest_only:
            self.cancel(channel)
        rid = self._current.get(channel, 0) + 1
        self._current[channel] = rid
        job = _Job(channel, rid, Cancel(), on_result, on_yield, on_progress, on_error, on_finished)
        was_idle = not self._jobs
        self._jobs[(channel, rid)] = job
        self.pool.start(_Task(self, job, fn, args, kwargs, wants_cancel))
        if was_idle:
            emit(self.busy_changed, True)
        return job.cancel

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
    def _live(self, key: tuple[str, int]) -> _Job | None:
        job = self._jobs.get(key)
        if job is None or job.cancel.is_set:
            return None
        return job

    def _on_progress(self, key: tuple[str, int], p: Progress) -> None:
        job = self._live(key)
        if job and job.on_progress:
            _timed(key, job.on_progress, p)

    def _on_yielded(self, key: tuple[str, int], item: Any) -> None:
        job = self._live(key)
        if job and job.on_yield:
            _timed(key, job.on_yield, item)

    def _on_result(self, key: tuple[str, int], value: Any) -> None:
        job = self._live(key)
        if job and job.on_result:
            _timed(key, job.on_result, value)

    def _on_error(self, key: tuple[str, int], exc: BaseException) -> None:
        job = self._jobs.get(key)
        if job is None or job.cancel.is_set:
            return
        if job.on_error:
            job.on_error(exc)
        else:  # no handler: an unexpected error goes to the excepthook (log + one dialog)
            log.error("job %s failed:\n%s", key[0], getattr(exc, "__traceback_text__", exc))
            import sys

            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _on_finished(self, key: tuple[str, int]) -> None:
        job = self._jobs.pop(key, None)
        if job and job.on_finished and not job.cancel.is_set:
            job.on_finished()
        if not self._jobs:
            emit(self.busy_changed, False)
