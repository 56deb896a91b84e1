"""Domain types shared by every layer: plain frozen dataclasses and exception classes, no I/O.

>>> p = Prediction(path="a.bmp", classes=("crazing", "scratches"),
...                probabilities=(0.9, 0.2), thresholds=(0.5, 0.5))
>>> p.labels
('crazing',)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

#: The six defect classes of the NEU surface defect database, in the order the shipped model uses.
NEU_CLASSES: tuple[str, ...] = (
    "crazing",
    "inclusion",
    "patches",
    "pitted_surface",
    "rolled-in_scale",
    "scratches",
)

#: Shown when no class is over its threshold.
NO_DEFECT = "no defect"


class InspectorError(Exception):
    """Base class of every expected problem; the CLI and GUI show its message, not a traceback."""


class ImageLoadError(InspectorError):
    """A file could not be read as a plate image."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class PredictionError(ImageLoadError):
    """The model gave no usable answer for one image (NaN or infinite scores).

    A subclass of :class:`ImageLoadError` so every caller that reports a bad file and goes on
    reports this one too, instead of showing NaN as "no defect".
    """


class DatasetError(InspectorError):
    """A dataset folder or split file is missing or malformed."""


class VocError(InspectorError):
    """A Pascal VOC annotation file is unreadable, not XML, or has a non-numeric ``<bndbox>``.

    ``reason`` is the user-facing part of the message; ``detail`` is the underlying problem alone
    (the parser's or OS's words), for callers that phrase their own message around it.
    """

    def __init__(self, path: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason
        self.detail = detail or reason


class OutputError(InspectorError):
    """A file the user named for output cannot be written there (a folder, read-only, full)."""


class ModelError(InspectorError):
    """A model version folder is missing, incomplete or inconsistent."""


class Role(StrEnum):
    INSPECTOR = "inspector"
    ANNOTATOR = "annotator"
    SUPERVISOR = "supervisor"


class PermissionDenied(InspectorError):
    """The signed-in role may not do this (a supervisor action, or a wrong PIN)."""


def require_supervisor(role: str, action: str) -> None:
    """Refuse ``action`` (words, e.g. "promote a model") unless ``role`` is a supervisor.

    The one rule for the window, the CLI and the learning loop.
    """
    if role != Role.SUPERVISOR:
        raise PermissionDenied(
            f"only a supervisor can {action} (you are signed in as {role or 'no role'})"
        )


class LabelStatus(StrEnum):
    UNLABELLED = "unlabelled"
    CONFIRMED = "confirmed"  # a person accepted the model's labels
    CORRECTED = "corrected"  # a person chose labels other than the model's


@dataclass(frozen=True, slots=True)
class Prediction:
    """Per-class sigmoid probabilities for one image, with the thresholds that turn them into labels."""

    path: str
    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    thresholds: tuple[float, ...]
    model_version: str = ""
    #: How unlike the model's training plates this image is (higher = less familiar), computed
    #: in the same ONNX run as the probabilities; None for a model without the statistics.
    unfamiliar: float | None = None
    #: The score above which the plate is flagged, chosen on validation data (the model card's).
    unfamiliar_threshold: float | None = None

    @property
    def is_unfamiliar(self) -> bool:
        """True when the plate is unlike the training plates: its labels deserve doubt."""
        return (
            self.unfamiliar is not None
            and self.unfamiliar_threshold is not None
            and not self.unfamiliar <= self.unfamiliar_threshold  # NaN counts as unfamiliar
        )

    @property
    def labels(self) -> tuple[str, ...]:
        """The classes whose probability reaches their threshold (empty = no defect)."""
        return tuple(
            c
            for c, p, t in zip(self.classes, self.probabilities, self.thresholds, strict=True)
            if p >= t
        )


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a long job: yielded by core generators, shown by the CLI and the GUI."""

    done: int
    total: int
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0
