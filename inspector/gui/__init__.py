"""The desktop app: the only package that imports PySide6 (see ../shared/docs/ARCHITECTURE.md).

Importing it applies :mod:`inspector.gui.qtcompat` first (a PySide6 6.12 / CPython 3.11 refcount
work-around), before any widget code runs.
"""

from inspector.gui import qtcompat as _qtcompat  # noqa: F401 - imported for its side effect
