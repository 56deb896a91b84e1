"""One image of a session (:class:`Entry`) and which entries a gallery shows (:class:`GalleryFilter`).

>>> e = Entry("/plates/Cr_1.bmp", labels=())
>>> e.name, e.label_text(), GalleryFilter(label="no defect").accepts(e)
('Cr_1.bmp', 'no defect', True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from inspector.domain import NO_DEFECT, LabelStatus, Prediction

#: Words for a plate the model finds unlike its training plates (badge, captions, alarms).
UNFAMILIAR = "unfamiliar plate"


def unfamiliar_note(p: Prediction) -> str:
    """Why the plate is flagged, in words, for a tooltip (empty for a familiar plate).

    >>> unfamiliar_note(Prediction("a", ("c",), (0.9,), (0.5,), unfamiliar=7.5,
    ...                            unfamiliar_threshold=2.0)).split(":")[0]
    'The model has not seen plates like this one (unfamiliar score 7.50, flagged above 2.00)'
    """
    if not p.is_unfamiliar:
        return ""
    u, t = p.unfamiliar, p.unfamiliar_threshold
    score = (
        "its unfamiliar score could not be computed"
        if u is None or math.isnan(u)
        else f"unfamiliar score {u:.2f}, flagged above {t:.2f}"
    )
    return (
        f"The model has not seen plates like this one ({score}): its labels deserve doubt. "
        "Look at the plate yourself before trusting them."
    )


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

    @property
    def unfamiliar(self) -> bool:
        """The model has not seen plates like this one: whatever it says deserves doubt."""
        return bool(self.prediction and self.prediction.is_unfamiliar)

    def caption(self) -> str:
        if self.error:
            return "cannot read"
        if self.prediction is None:
            return "…"
        top = max(zip(self.prediction.probabilities, self.prediction.classes, strict=True))
        labels = self.prediction.labels
        if self.unfamiliar:
            # never "no defect" for a plate the model cannot judge: only what it leans to
            what = f"{', '.join(labels)} {top[0]:.2f}" if labels else f"{top[1]} {top[0]:.2f}"
            return f"{UNFAMILIAR} · {what}"
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
    and label status ('' = any), and, when ``unfamiliar``, only plates the model found unfamiliar."""

    source: str = "opened"
    predicted: str = ""
    label: str = ""
    status: str = ""
    unfamiliar: bool = False

    def accepts(self, e: Entry) -> bool:
        if e.source != self.source:
            return False
        if self.unfamiliar and not e.unfamiliar:
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
