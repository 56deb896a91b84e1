"""A minimal Qt-free signal: controllers announce changes, views (or tests) subscribe.

Callbacks run synchronously on the emitting thread; controllers emit on the GUI thread only
(job results reach them there through the runner), so a Qt slot connected here is safe.

>>> changed = Signal()
>>> seen = []
>>> changed.connect(seen.append)
>>> changed.emit("a.bmp")
>>> seen
['a.bmp']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """A list of callbacks; ``emit(*args)`` calls each in the order they connected."""

    __slots__ = ("__weakref__", "_slots")  # Qt signals connect to emit only through a weakref

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any]) -> None:
        self._slots.append(slot)

    def disconnect(self, slot: Callable[..., Any]) -> None:
        self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)
