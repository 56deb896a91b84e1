"""The label store: a workspace's images, append-only label history, predictions and reviews.

>>> import tempfile
>>> from inspector.store import LabelStore, ImageFilter
>>> with tempfile.TemporaryDirectory() as tmp, LabelStore.open(tmp) as store:
...     img = store.add_image("plates/a.bmp")
...     store.set_labels(img, ["crazing"], user="ana").labels
...     store.count(ImageFilter(label="crazing"))
('crazing',)
1

Importing this package is cheap (sqlite3 only); importers pull in Pillow when they run.

Why raw :mod:`sqlite3` for writing, not sqlite-utils (which the plan named): the durability
guarantees rest on the store controlling every transaction itself, and with plain sqlite3 that
control is explicit in the code. Every write is an explicit ``BEGIN IMMEDIATE`` ... ``COMMIT``
(the writer takes the lock up front; event, current label and prediction scores land together or
not at all); each per-thread connection sets ``synchronous=FULL``, WAL and a busy timeout itself
(see :mod:`inspector.store.connection`); and connections run in autocommit mode so no library
ever commits behind our back half-way through a transaction. Migrations are likewise our own
named, transactional steps (:mod:`inspector.store.migrations`). For *reading* a workspace from
outside, sqlite-utils and Datasette work well on the read-only SQL views (docs/workspace-sql.md).
"""

from inspector.store.errors import (
    ClassNameError,
    CorruptDatabaseError,
    DiskFullError,
    ImportFormatError,
    NotADatabaseError,
    NothingToUndoError,
    NotYourDecisionError,
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
    EventKind,
    ImageRecord,
    ImageRow,
    LabelEvent,
    ModelStatus,
    ModelVersion,
    ReviewDecision,
    ReviewKind,
)
from inspector.store.store import LabelStore
from inspector.store.workspace import default_workspace, resolve_workspace

__all__ = [
    "SCHEMA_VERSION",
    "Box",
    "CheckReport",
    "ClassInfo",
    "ClassNameError",
    "CorruptDatabaseError",
    "DiskFullError",
    "EventKind",
    "ImageFilter",
    "ImageRecord",
    "ImageRow",
    "ImportFormatError",
    "LabelEvent",
    "LabelStore",
    "ModelStatus",
    "ModelVersion",
    "NotADatabaseError",
    "NotYourDecisionError",
    "NothingToUndoError",
    "ReadOnlyWorkspaceError",
    "ReviewDecision",
    "ReviewKind",
    "SchemaTooNewError",
    "StoreError",
    "UnknownClassError",
    "UnknownImageError",
    "default_workspace",
    "resolve_workspace",
]
