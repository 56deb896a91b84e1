"""The sign-off report's rows and its CSV (the PDF is drawn by ``inspector.gui.signoff_pdf``).

One row per review decision made in a time span (a shift, or days), oldest first:

>>> rows = sup.log(*shift_bounds())                                     # doctest: +SKIP
>>> write_csv(rows, "signoff.csv")                                       # doctest: +SKIP
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from pathlib import Path

from inspector.controllers.supervision import LogRow
from inspector.domain import NO_DEFECT

COLUMNS = (
    "reviewed_at",
    "image",
    "decision",
    "supervisor",
    "reason",
    "labels",
    "labelled_by",
    "labelled_at",
    "model_version",
)


def label_text(labels: tuple[str, ...] | None) -> str:
    if labels is None:
        return "unlabelled"
    return ";".join(labels) if labels else NO_DEFECT


def row_values(r: LogRow) -> tuple[str, ...]:
    return (
        r.at,
        r.path,
        r.decision,
        r.supervisor,
        r.reason,
        label_text(r.labels),
        r.labelled_by,
        r.labelled_at,
        r.model_version or "",
    )


def write_csv(rows: Iterable[LogRow], path: str | os.PathLike[str]) -> int:
    """Write the rows (with a header) atomically; return how many rows."""
    out = Path(path)
    tmp = out.with_name(out.name + ".part")
    n = 0
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(row_values(r))
            n += 1
    os.replace(tmp, out)
    return n
