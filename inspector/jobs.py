"""One protocol for every long piece of work: import, scoring, explanations, reports, training.

A *job* is a generator. It

* yields :class:`~inspector.domain.Progress` at least every ~100 ms (done / total / message),
* yields :class:`Partial` for a result worth showing before the end (a first-look heatmap, a
  chunk of listed files, a batch of scores),
* **returns** its result (the generator's return value), and
* takes one ``cancel`` callable (``() -> bool``), checks it between steps with :func:`check`,
  and stops by raising :class:`Cancelled`.

The CLI and tests drive a job with :func:`run`; the GUI's runner (``inspector.gui.workers``)
drives the same generator on a worker thread and routes each kind of item to one callback. No
job speaks Qt, and no job invents its own way to hand back a result or to be told to stop.

>>> def count(n: int, cancel: CancelFn = never) -> Job[int]:
...     for i in range(n):
...         check(cancel)
...         yield Progress(i + 1, n, "counting")
...     return n
>>> run(count(3))
3
>>> seen = []
>>> run(count(2), on_progress=lambda p: seen.append(p.done))
2
>>> seen
[1, 2]
>>> run(count(2, cancel=lambda: True))
Traceback (most recent call last):
...
inspector.jobs.Cancelled: cancelled
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from inspector.domain import InspectorError, Progress

__all__ = [
    "CancelFn",
    "Cancelled",
    "Job",
    "Partial",
    "Progress",
    "Runner",
    "SyncRunner",
    "check",
    "never",
    "run",
]

T = TypeVar("T")
R = TypeVar("R")

#: The one cancel shape: a callable that says whether the job should stop now.
CancelFn = Callable[[], bool]


class Cancelled(Exception):
    """Raised inside a job when its cancel callable says stop (not an error: nobody is told)."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Partial(Generic[T]):
    """A result worth showing before the job ends (the job's final result is its return value)."""

    value: T


#: A job: yields progress and partial results, returns ``R``.
Job = Generator["Progress | Partial[Any]", None, R]


def never() -> bool:
    """The default cancel callable: never cancelled."""
    return False


def check(cancel: CancelFn) -> None:
    """Raise :class:`Cancelled` when ``cancel()`` is true; call it between steps of a job."""
    if cancel():
        raise Cancelled


def run(
    job: Job[R],
    on_progress: Callable[[Progress], None] | None = None,
    on_partial: Callable[[Any], None] | None = None,
) -> R:
    """Drive ``job`` to its end on this thread and return its result (CLI, tests, scripts)."""
    while True:
        try:
            item = next(job)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, Progress):
            if on_progress is not None:
                on_progress(item)
        elif isinstance(item, Partial):
            if on_partial is not None:
                on_partial(item.value)
        else:
            job.close()
            raise TypeError(f"a job yielded a {type(item).__name__}: only Progress and Partial")


class Runner(Protocol):
    """Where a controller sends its jobs: the GUI's thread pool, or :class:`SyncRunner`.

    Jobs run one per *channel* at a time when ``latest_only`` (a new one cancels the previous, whose
    late results are dropped). ``fn`` is called as ``fn(*args, cancel=..., **kwargs)`` and may be a
    job (generator) or a plain function. Callbacks run on the caller's thread:
    ``on_progress(Progress)``, ``on_partial(value)``, ``on_result(value)``, ``on_finished()`` (after
    a result or an expected error, not after a cancel), and ``on_error(InspectorError)`` for
    expected problems; anything else is a bug and goes to the runner's one unexpected-error handler.
    """

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
    ) -> None: ...

    def cancel(self, channel: str) -> None: ...

    def is_running(self, channel: str) -> bool: ...


class SyncRunner:
    """A :class:`Runner` that runs each job to its end inside ``submit`` (tests, scripts).

    An expected error goes to ``on_error`` (raised when there is none); any other exception
    propagates to the caller, as it would reach the GUI's unexpected-error handler.
    """

    def __init__(self) -> None:
        self._running: set[str] = set()
        self.submitted: list[str] = []  # channels, in order: what a controller asked for

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
        self.submitted.append(channel)
        self._running.add(channel)
        try:
            out = fn(*args, cancel=never, **kwargs)
            if inspect.isgenerator(out):
                out = run(out, on_progress, on_partial)
        except Cancelled:
            return
        except InspectorError as exc:
            if on_error is None:
                raise
            on_error(exc)
        else:
            if on_result is not None:
                on_result(out)
        finally:
            self._running.discard(channel)
        if on_finished is not None:
            on_finished()

    def cancel(self, channel: str) -> None:
        """Nothing to cancel: a job has finished by the time ``submit`` returns."""

    def is_running(self, channel: str) -> bool:
        return channel in self._running
