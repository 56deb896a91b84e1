"""Work-arounds for bugs in the Qt binding, each detected at run time and applied only if present.

PySide6 6.12.0 (shiboken6 6.12.0) on CPython 3.11 returns ``None``/``True``/``False`` from many
calls *without* a new reference: every ``QPainter.save()``, ``setPen()``, ``drawPixmap()``,
``QModelIndex.data()`` returning None, ``SignalInstance.emit()`` (returns True)... drops one
reference to a singleton, and after a few thousand calls CPython aborts with
"Fatal Python error: none_dealloc / bool_dealloc". (CPython >= 3.12 makes these singletons
immortal — PEP 683 — which is what the 6.12 build silently assumes.) bench_gui.py found it.

The real fix is in packaging: PySide6 < 6.12 on Python 3.11, or Python >= 3.12. Until then,
:func:`pin_singletons` does what PEP 683 does: it gives ``None``, ``True`` and ``False`` a
refcount so large that no number of lost references can bring it to zero. These objects are
static and never freed, so this changes nothing else.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_PIN = 1 << 40


class _Probe(QObject):
    sig = Signal(int)


def binding_drops_references() -> bool:
    """True when PySide6 loses references to None/True on ordinary calls (measured, not assumed)."""
    probe = _Probe()
    n = 16
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(n):
        probe.sig.emit(1)  # returns True
        probe.blockSignals(False)  # returns a bool
        probe.setObjectName("probe")  # void -> None
    lost = (none0 - sys.getrefcount(None)) + (true0 - sys.getrefcount(True))
    return lost >= n


def pin_singletons() -> None:
    """Make None/True/False effectively immortal on CPython < 3.12 (no-op on 3.12+)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return
    for obj in (None, True, False):
        ref = ctypes.c_ssize_t.from_address(id(obj))
        if ref.value < _PIN:
            ref.value += _PIN


BINDING_DROPS_REFERENCES: bool = binding_drops_references()
if BINDING_DROPS_REFERENCES:
    pin_singletons()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``: the one place to adapt emits if the binding needs it again."""
    signal.emit(*args)
