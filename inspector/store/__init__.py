"""The label store: a workspace's images, append-only label history, predictions and reviews.

>>> from inspector.store import LabelStore, ImageFilter
>>> with LabelStore.open("ws") as store:                       # doctest: +SKIP
...     store.set_labels("plates/a.bmp", ["crazing"], user="ana")
...     store.top_losses(limit=50)

Importing this package is cheap (sqlite3 only); importers pull in Pillow when they run.

Why raw :mod:`sqlite3` and not sqlite-utils (which the plan named; it is not a dependency, as
nothing uses it): the durability guarantees rest on the store controlling every transaction
itself, and with plain sqlite3 that control is explicit in the code. Every write is an
explicit ``BEGIN IMMEDIATE`` ... ``COMMIT`` (the writer takes the lock up front; event, current
label and prediction scores land together or not at all); each per-thread connection sets
``synchronous=FULL``, WAL and a busy timeout itself (see :mod:`inspector.store.connection`); and
connections run in autocommit mode so no library ever commits behind our back half-way through a
transaction. Migrations are likewise our own named, transactional steps
(:mod:`inspector.store.migrations`).
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
