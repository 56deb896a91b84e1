"""The printable sign-off report: a PDF (Qt's own writer) with one row per review decision and a
thumbnail of each plate; and the report job that writes it beside the CSV.

Runs in a worker: thumbnails are decoded into QImages (never QPixmaps) and painted onto a
QPdfWriter, both of which are safe off the GUI thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from inspector.controllers.signoff_report import label_text, write_csv
from inspector.controllers.supervision import LogRow, Supervision
from inspector.domain import Progress
from inspector.gui.widgets.gallery import gray_to_qimage
from inspector.jobs import CancelFn, Job, check, never

DPI = 150
ROW_MM = 22
THUMB_MM = 18


@dataclass(frozen=True, slots=True)
class ReportFiles:
    rows: int
    csv: Path
    pdf: Path


def _thumb(path: str, px: int) -> QImage | None:
    from inspector.domain import ImageLoadError
    from inspector.imageio import load_image

    try:
        gray = load_image(path)
    except ImageLoadError:
        return None
    return gray_to_qimage(gray).scaled(
        px, px, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def write_pdf(
    rows: list[LogRow], path: str | os.PathLike[str], title: str, cancel: CancelFn = never
) -> Job[int]:
    """Draw the report; yields Progress per row; returns how many rows were drawn."""
    out = Path(path)
    tmp = out.with_name(out.name + ".part")
    writer = QPdfWriter(str(tmp))
    writer.setResolution(DPI)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(title)
    writer.setCreator("Plate Inspector")
    mm = DPI / 25.4
    p = QPainter(writer)
    try:
        page = writer.pageLayout().paintRectPixels(DPI)
        width, height = page.width(), page.height()
        reason_x = THUMB_MM + 196
        cols = [  # (title, x mm, width mm); the reason takes the rest of the line
            ("plate", 0, THUMB_MM + 2),
            ("image", THUMB_MM + 3, 56),
            ("decision", THUMB_MM + 60, 20),
            ("label signed off", THUMB_MM + 81, 38),
            ("labelled by", THUMB_MM + 120, 36),
            ("supervisor · reviewed", THUMB_MM + 157, 38),
            ("reason", reason_x, width / mm - reason_x),
        ]
        body = QFont("DejaVu Sans", 8)
        head = QFont("DejaVu Sans", 8, QFont.Weight.Bold)
        big = QFont("DejaVu Sans", 13, QFont.Weight.Bold)

        def header(page_no: int) -> float:
            p.setFont(big)
            p.setPen(QColor(20, 20, 20))
            p.drawText(QRectF(0, 0, width, 9 * mm), Qt.AlignmentFlag.AlignLeft, title)
            p.setFont(body)
            p.drawText(
                QRectF(0, 0, width, 9 * mm),
                Qt.AlignmentFlag.AlignRight,
                f"{len(rows)} decisions ({overrides} overridden) · page {page_no}",
            )
            y = 11 * mm
            p.setFont(head)
            for name, x, w in cols:
                p.drawText(QRectF(x * mm, y, w * mm, 5 * mm), Qt.AlignmentFlag.AlignLeft, name)
            y += 6 * mm
            p.setPen(QPen(QColor(120, 120, 120), 1))
            p.drawLine(0, int(y - 1 * mm), int(width), int(y - 1 * mm))
            return y

        overrides = sum(r.decision == "override" for r in rows)
        page_no = 1
        y = header(page_no)
        for i, r in enumerate(rows):
            check(cancel)
            if y + ROW_MM * mm > height:
                writer.newPage()
                page_no += 1
                y = header(page_no)
            thumb = _thumb(r.path, int(THUMB_MM * mm))
            if thumb is not None:
                p.drawImage(QRectF(0, y, THUMB_MM * mm, THUMB_MM * mm), thumb)
            else:
                p.setPen(QColor(150, 150, 150))
                p.drawRect(QRectF(0, y, THUMB_MM * mm, THUMB_MM * mm))
            p.setFont(body)
            cells = [
                None,
                f"{Path(r.path).name}\n{Path(r.path).parent}",
                r.decision,
                label_text(r.labels),
                f"{r.labelled_by}\n{_when(r.labelled_at)}\nmodel {r.model_version or '—'}",
                f"{r.supervisor}\n{_when(r.at)}",
                r.reason,
            ]
            for (name, x, w), text in zip(cols, cells, strict=True):
                if text is None:
                    continue
                override = name == "decision" and r.decision == "override"
                p.setPen(QColor(200, 40, 40) if override else QColor(20, 20, 20))
                p.setFont(head if override else body)
                p.drawText(
                    QRectF(x * mm, y, w * mm, THUMB_MM * mm),
                    int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                    | int(Qt.TextFlag.TextWordWrap),
                    text,
                )
            y += ROW_MM * mm
            p.setPen(QPen(QColor(220, 220, 220), 1))
            p.drawLine(0, int(y - 2 * mm), int(width), int(y - 2 * mm))
            yield Progress(i + 1, len(rows), "drawing the sign-off report")
        if not rows:
            p.setFont(body)
            p.drawText(QRectF(0, y, width, 10 * mm), "No review decisions in this period.")
    finally:
        p.end()
    os.replace(tmp, out)
    return len(rows)


def report_job(
    sup: Supervision,
    since: str | None,
    until: str | None,
    csv_path: str | os.PathLike[str],
    pdf_path: str | os.PathLike[str],
    cancel: CancelFn = never,
) -> Job[ReportFiles]:
    """Read the review decisions of ``[since, until)`` and write the CSV and the PDF."""
    yield Progress(0, 1, "reading review decisions")
    rows = sup.log(since, until)
    write_csv(rows, csv_path)
    span = f"{_when(since) if since else 'the beginning'} – {_when(until) if until else 'now'}"
    yield from write_pdf(rows, pdf_path, f"Sign-off report · {span} (UTC)", cancel)
    return ReportFiles(len(rows), Path(csv_path), Path(pdf_path))
