"""Plain frozen records the store returns; no I/O, safe to pass between threads.

>>> event = store.set_labels("plates/a.bmp", ["crazing"], user="ana")   # doctest: +SKIP
>>> event.labels, event.kind
(('crazing',), 'label')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.domain import LabelStatus


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


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """One entry of an image's append-only history.

    ``labels`` is the full multi-label vector after the event, as class names in class order;
    ``()`` means "no defect", ``None`` means unlabelled (an undo of the first decision).
    """

    id: int
    image_id: int
    kind: str  # label | undo | redo | merge | import
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
    decision: str  # approve | override
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
