"""One image of a session (:class:`Entry`) and which entries a gallery shows (:class:`GalleryFilter`).

>>> e = Entry("/plates/Cr_1.bmp", labels=())
>>> e.name, e.label_text(), GalleryFilter(label="no defect").accepts(e)
('Cr_1.bmp', 'no defect', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inspector.domain import NO_DEFECT, LabelStatus, Prediction


@dataclass(slots=True)
class Entry:
    """One image of the session (changed by the controller only)."""

    path: str
    prediction: Prediction | None = None
    error: str | None = None
    labels: tuple[str, ...] | None = None  # () = no defect, None = unlabelled
    status: LabelStatus = LabelStatus.UNLABELLED
    source: str = "opened"  # "opened" (a folder or files) | "watched" (the line camera's folder)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def alarm(self) -> bool:
        """A defect class is over threshold (the model says: not clean)."""
        return bool(self.prediction and self.prediction.labels)

    def caption(self) -> str:
        if self.error:
            return "cannot read"
        if self.prediction is None:
            return "…"
        top = max(zip(self.prediction.probabilities, self.prediction.classes, strict=True))
        labels = self.prediction.labels
        if labels:
            return f"{', '.join(labels)} {top[0]:.2f}"
        return f"no defect ({top[1]} {top[0]:.2f})"

    def label_text(self) -> str:
        if self.labels is None:
            return "not labelled yet"
        return ", ".join(self.labels) if self.labels else NO_DEFECT


@dataclass(frozen=True, slots=True)
class GalleryFilter:
    """Which entries are shown: opened or watched images, then by predicted class, labelled class
    and label status ('' = any)."""

    source: str = "opened"
    predicted: str = ""
    label: str = ""
    status: str = ""

    def accepts(self, e: Entry) -> bool:
        if e.source != self.source:
            return False
        if self.status and e.status.value != self.status:
            return False
        if self.predicted:
            pred = e.prediction.labels if e.prediction else None
            if self.predicted == NO_DEFECT:
                if pred is None or pred:
                    return False
            elif not pred or self.predicted not in pred:
                return False
        if self.label:
            if e.labels is None:
                return False
            if self.label == NO_DEFECT:
                return not e.labels
            return self.label in e.labels
        return True
