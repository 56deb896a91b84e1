"""Plain frozen records and enums the store returns; no I/O, safe to pass between threads.

The enums are string enums, stored as their values, so they compare equal to those strings:

>>> EventKind.UNDO == "undo", ReviewKind("approve") is ReviewKind.APPROVE
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from inspector.domain import LabelStatus


class EventKind(StrEnum):
    """What a label event records (stored as its value; a ``CHECK`` constraint allows these)."""

    LABEL = "label"  # a person's decision
    UNDO = "undo"  # restores the vector before the event it reverts
    REDO = "redo"  # re-applies the event it reverts
    MERGE = "merge"  # a class merge moved this image's label
    IMPORT = "import"  # ground truth from an import


class ReviewKind(StrEnum):
    """A supervisor's decision on an image's current label."""

    APPROVE = "approve"  # the label stands
    OVERRIDE = "override"  # replaced by the supervisor's labels, with a reason


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"  # at most one: promoting a model retires the previous one
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class ClassInfo:
    id: int
    name: str
    position: int
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: int
    path: str
    sha256: str | None
    size: int | None
    width: int | None
    height: int | None
    added_at: str
    source: str
    missing: bool
    unreadable: bool = False  # the file exists but does not decode as an image


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """One entry of an image's append-only history.

    ``labels`` is the full multi-label vector after the event, as class names in class order;
    ``()`` means "no defect", ``None`` means unlabelled (an undo of the first decision).
    """

    id: int
    image_id: int
    kind: EventKind
    labels: tuple[str, ...] | None
    user: str
    role: str
    created_at: str
    reason: str = ""
    reverts: int | None = None
    model_version: str | None = None
    probabilities: dict[str, float] | None = None
    model_labels: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ImageRow:
    """One line of a gallery/queue page: the image, its current label and the model's view."""

    id: int
    path: str
    missing: bool
    labels: tuple[str, ...] | None
    status: LabelStatus
    predicted: tuple[str, ...] | None = None
    probabilities: dict[str, float] | None = None
    max_prob: float | None = None
    loss: float | None = None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    name: str
    path: str
    status: str  # candidate | active | retired
    classes: tuple[str, ...]
    thresholds: tuple[float, ...]
    metrics: dict = field(default_factory=dict)
    parent: str | None = None
    created_at: str = ""


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    id: int
    image_id: int
    event_id: int | None
    decision: ReviewKind
    reason: str
    user: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Box:
    image_id: int
    label: str
    xmin: int
    ymin: int
    xmax: int
    ymax: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``inspector db check`` prints."""

    path: str
    integrity: str
    schema_version: int
    code_schema_version: int
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.schema_version == self.code_schema_version
