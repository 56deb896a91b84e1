"""The label store: a workspace's images, append-only label history, predictions and reviews.

>>> from inspector.store import LabelStore, ImageFilter
>>> with LabelStore.open("ws") as store:                       # doctest: +SKIP
...     store.set_labels("plates/a.bmp", ["crazing"], user="ana")
...     store.top_losses(limit=50)

Importing this package is cheap (sqlite3 only); importers pull in Pillow when they run.
"""

from inspector.store.errors import (
    ImportFormatError,
    NotADatabaseError,
    NothingToUndoError,
    ReadOnlyWorkspaceError,
    SchemaTooNewError,
    StoreError,
    UnknownClassError,
    UnknownImageError,
)
from inspector.store.migrations import SCHEMA_VERSION
from inspector.store.queries import ImageFilter
from inspector.store.records import (
    Box,
    CheckReport,
    ClassInfo,
    ImageRecord,
    ImageRow,
    LabelEvent,
    ModelVersion,
    ReviewDecision,
)
from inspector.store.store import LabelStore
from inspector.store.workspace import default_workspace, resolve_workspace

__all__ = [
    "SCHEMA_VERSION",
    "Box",
    "CheckReport",
    "ClassInfo",
    "ImageFilter",
    "ImageRecord",
    "ImageRow",
    "ImportFormatError",
    "LabelEvent",
    "LabelStore",
    "ModelVersion",
    "NotADatabaseError",
    "NothingToUndoError",
    "ReadOnlyWorkspaceError",
    "ReviewDecision",
    "SchemaTooNewError",
    "StoreError",
    "UnknownClassError",
    "UnknownImageError",
    "default_workspace",
    "resolve_workspace",
]
