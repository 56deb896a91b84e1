"""Expected problems of the label store; each message is one line a user can act on.

The CLI prints ``inspector: error: <message>`` and exits 2 for any of them; the GUI shows the
message. :class:`StoreError` is the base class, itself an :class:`~inspector.domain.InspectorError`.
"""

from __future__ import annotations

from inspector.domain import InspectorError


class StoreError(InspectorError):
    """Base class of every label-store problem."""


class NotADatabaseError(StoreError):
    """The workspace's ``inspector.db`` exists but is not an SQLite database."""


class CorruptDatabaseError(StoreError):
    """The database fails SQLite's integrity check: it is never written to; restore a backup."""


class DiskFullError(StoreError):
    """The disk (or the file size limit) ran out while writing; nothing half-written was kept."""


class ClassNameError(StoreError):
    """A class name that cannot be a folder name: empty, ``.``/``..``, a path separator..."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer Plate Inspector than this one."""


class ReadOnlyWorkspaceError(StoreError):
    """A write was attempted on a workspace opened (or only openable) read-only."""


class ImportFormatError(StoreError):
    """An import file is malformed: missing columns, bad encoding, unknown classes..."""


class UnknownClassError(StoreError):
    """A label names a class the workspace does not have."""


class UnknownImageError(StoreError):
    """An image id or path is not in the workspace."""


class NothingToUndoError(StoreError):
    """Undo/redo was asked for an image whose history has nothing to undo/redo."""


class NotYourDecisionError(StoreError):
    """Undo/redo refused: the decision to undo is a colleague's, or a colleague decided since."""
