"""Work-arounds for bugs in the Qt binding, each detected at run time and applied only if present.

PySide6 6.12.0 on CPython 3.11: ``SignalInstance.emit()`` returns ``True`` *without* a new
reference, so every Python-side ``emit`` drops one reference to ``True``; after a few hundred
emits CPython aborts with "Fatal Python error: bool_dealloc: deallocating True or False"
(found by benchmarks/bench_gui.py; CPython >= 3.12 makes bools immortal, which hides it).
Every emit in ``inspector.gui`` goes through :func:`emit`, which gives the reference back.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    sig = Signal(int)


def _emit_steals_bool() -> bool:
    probe = _Probe()
    probe.sig.connect(lambda _v: None)
    n = 16
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.sig.emit(1)
    lost = before - sys.getrefcount(True)
    for _ in range(max(0, lost)):  # give back what the probe itself took
        _incref(True)
    return lost >= n


EMIT_STEALS_BOOL: bool = _emit_steals_bool()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe against the binding's refcount bug (any thread)."""
    r = signal.emit(*args)
    if EMIT_STEALS_BOOL and isinstance(r, bool):
        _incref(r)
