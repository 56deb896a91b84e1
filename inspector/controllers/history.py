"""An image's full label history, as people read it: who, when, role, old → new, the model
version and probabilities they saw, reasons, and the supervisors' review decisions.

Read from the store's append-only label events and review decisions (a few rows: fine on the
GUI thread) and exportable as CSV::

    rows = image_history(service, "/plates/In_12.bmp")
    export_csv(rows, "In_12-history.csv")
"""

from __future__ import annotations

import csv
import os
from dataclasses import astuple, dataclass, fields

from inspector.domain import NO_DEFECT, InspectorError


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One line of the history; every field is text, ready for a table cell or a CSV column."""

    when: str
    who: str
    role: str
    action: str
    old: str
    new: str
    model_version: str
    seen: str  # the probabilities shown, "crazing 0.91 · scratches 0.40"
    reason: str


COLUMNS = tuple(f.name for f in fields(HistoryRow))
HEADERS = ("When", "Who", "Role", "Action", "Old", "New", "Model", "Probabilities seen", "Reason")


def labels_text(labels: tuple[str, ...] | None) -> str:
    """``None`` → "unlabelled", ``()`` → "no defect", else the names joined by ", "."""
    if labels is None:
        return "unlabelled"
    return ", ".join(labels) if labels else NO_DEFECT


def when_text(created_at: str) -> str:
    """'2026-11-22T16:50:03.123+00:00' → '2026-11-22 16:50:03' (UTC, as stored)."""
    return created_at[:19].replace("T", " ")


def _seen(probs: dict[str, float] | None) -> str:
    if not probs:
        return ""
    top = sorted(probs.items(), key=lambda kv: -kv[1])
    return " · ".join(f"{c} {p:.2f}" for c, p in top if p >= 0.05) or " · ".join(
        f"{c} {p:.2f}" for c, p in top[:1]
    )


def image_history(service, path: str) -> list[HistoryRow]:
    """The image's history, oldest first: label events and review decisions interleaved."""
    if service is None:
        return []
    events = service.history(path)
    labels_after: dict[int, tuple[str, ...] | None] = {}
    items: list[tuple[str, int, HistoryRow]] = []
    before: tuple[str, ...] | None = None
    for ev in events:
        action = str(ev.kind)
        if ev.reverts is not None:
            action += f" (of #{ev.reverts})"
        items.append(
            (
                ev.created_at,
                0,
                HistoryRow(
                    when_text(ev.created_at),
                    ev.user,
                    ev.role,
                    action,
                    labels_text(before),
                    labels_text(ev.labels),
                    ev.model_version or "",
                    _seen(ev.probabilities),
                    ev.reason,
                ),
            )
        )
        labels_after[ev.id] = ev.labels
        before = ev.labels
    for r in service.reviews(path):
        label = labels_text(labels_after.get(r.event_id)) if r.event_id in labels_after else ""
        items.append(
            (
                r.created_at,
                1,  # after the override's own label event of the same instant
                HistoryRow(
                    when_text(r.created_at),
                    r.user,
                    "supervisor",
                    f"review: {r.decision}",
                    label,
                    label,
                    "",
                    "",
                    r.reason,
                ),
            )
        )
    items.sort(key=lambda t: (t[0], t[1]))
    return [row for _, _, row in items]


def export_csv(rows: list[HistoryRow], out: str | os.PathLike[str]) -> int:
    """Write the rows as CSV (UTF-8, a header line); return how many rows were written."""
    try:
        with open(out, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADERS)
            w.writerows(astuple(r) for r in rows)
    except OSError as exc:
        raise InspectorError(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(rows)
