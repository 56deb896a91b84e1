"""Import images and labels: ImageFolder trees, ``path,labels`` CSV files, Pascal VOC XML.

Importing is a job (:mod:`inspector.jobs`) in two phases. First every input is parsed and
validated (:mod:`~inspector.store.import_parse`) and every image file is hashed and fully
decoded, several at a time (:mod:`~inspector.store.import_probe`; the slow part, with progress
and cancel); any bad input raises :class:`ImportFormatError` *before* anything is written. Then
everything is written in one transaction through the table modules, so an import is
all-or-nothing. The job returns an :class:`ImportReport`:

    report = jobs.run(iter_import(store, ["labels.csv"], user="ana"), on_progress=show)
    report.summary()  # '1800 images (1800 new), 1800 labels written, 0 duplicates, 0 missing'

:func:`import_paths` is the same, run to the end.

Rules: image paths are stored absolute; a CSV's relative paths are relative to the CSV, and
CSV/VOC paths must lie inside the CSV's/XML's folder or ``images_root`` unless
``allow_outside``. An empty ``labels`` cell (or ``no defect``) means "no defect". Files that do
not exist are added and marked missing; files that exist but do not decode are added and marked
unreadable; files with the same SHA-256 as another image are reported as duplicates and skipped
(inside one ImageFolder import, the same file under several class folders is one image with
several labels). VOC boxes are always kept; their classes become the image's label only when it
has none yet, so importing boxes never overrides a person's decision.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from inspector import jobs
from inspector.domain import Progress, Role
from inspector.jobs import CancelFn, Job, check, never
from inspector.store import boxes, decisions, events, images
from inspector.store import classes as class_table
from inspector.store.classes import ClassIndex
from inspector.store.errors import ImportFormatError
from inspector.store.import_parse import (
    FORMATS,
    NO_DEFECT_NAMES,
    Confinement,
    ImportItem,
    detect_format,
    gather,
    parse_csv,
    parse_imagefolder,
    parse_voc,
)
from inspector.store.import_probe import probe_all
from inspector.store.records import EventKind
from inspector.store.store import LabelStore

__all__ = [
    "FORMATS",
    "NO_DEFECT_NAMES",
    "ImportItem",
    "ImportReport",
    "detect_format",
    "import_paths",
    "iter_import",
    "parse_csv",
    "parse_imagefolder",
    "parse_voc",
]


@dataclass(slots=True)
class ImportReport:
    """What an import did; ``summary()`` is the line the CLI prints."""

    files: int = 0
    new_images: int = 0
    existing_images: int = 0
    labels_written: int = 0
    boxes: int = 0
    missing: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (skipped path, kept path)
    unreadable: list[str] = field(default_factory=list)
    classes_added: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when every file named was found and decoded (the CLI exits 1 otherwise)."""
        return not self.missing and not self.unreadable

    def summary(self) -> str:
        s = (
            f"{self.files} images ({self.new_images} new), {self.labels_written} labels written, "
            f"{len(self.duplicates)} duplicates, {len(self.missing)} missing"
        )
        if self.boxes:
            s += f", {self.boxes} boxes"
        if self.unreadable:
            s += f", {len(self.unreadable)} unreadable"
        if self.classes_added:
            s += f"; new classes: {', '.join(self.classes_added)}"
        return s


def iter_import(
    store: LabelStore,
    paths: Iterable[str | os.PathLike[str]],
    *,
    fmt: str | None = None,
    user: str,
    role: str = Role.ANNOTATOR,
    add_classes: bool = False,
    images_root: str | os.PathLike[str] | None = None,
    allow_outside: bool = False,
    cancel: CancelFn = never,
) -> Job[ImportReport]:
    """The import job: yields Progress, returns the :class:`ImportReport`; cancel writes nothing."""
    confine = Confinement(Path(images_root).expanduser() if images_root else None, allow_outside)
    items = gather([Path(p).expanduser() for p in paths], fmt, confine)
    new_classes = _check_classes(store, items, add_classes)
    yield from probe_all(items, cancel)
    report = ImportReport()
    items = _merge_duplicates(items, report)
    report.files = len(items)
    check(cancel)  # the last moment to stop: the write below is one transaction
    yield Progress(len(items), len(items), "writing to the database")
    with store.transaction() as conn:
        _write(conn, items, report, new_classes, user=user, role=str(role))
    return report


def import_paths(
    store: LabelStore,
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Callable[[Progress], None] | None = None,
    **kwargs,
) -> ImportReport:
    """Run :func:`iter_import` to the end; ``progress`` is called with each step."""
    return jobs.run(iter_import(store, paths, **kwargs), on_progress=progress)


def _check_classes(store: LabelStore, items: list[ImportItem], add_classes: bool) -> list[str]:
    known = {c.name for c in store.class_infos()}  # merged names count: they resolve
    wanted: dict[str, None] = {}
    for it in items:
        for name in it.labels or ():
            wanted.setdefault(name)
        for b in it.boxes:
            wanted.setdefault(b[0])
    unknown = [n for n in wanted if n not in known]
    if unknown and not add_classes:
        example = next(
            it.path if it.origin in ("", it.path) else f"{it.path}, {it.origin}"
            for it in items
            if set(it.labels or ()) & set(unknown) or {b[0] for b in it.boxes} & set(unknown)
        )
        raise ImportFormatError(
            f"unknown class(es) {', '.join(map(repr, unknown))} (first in {example});"
            f" the workspace has {', '.join(store.classes())}; pass --add-classes to create them"
        )
    for name in unknown:
        class_table.valid_name(name)  # refuse a path-like name now, before reading any image
    return unknown


def _merge_duplicates(items: list[ImportItem], report: ImportReport) -> list[ImportItem]:
    by_path: dict[str, ImportItem] = {}
    by_sha: dict[str, ImportItem] = {}
    out = []
    for it in items:
        sha = it.facts.sha256
        first = by_path.get(it.path) or (by_sha.get(sha) if sha else None)
        if first is not None:
            if first.path != it.path:
                report.duplicates.append((it.path, first.path))
            # Same file listed twice, or the same picture under two class folders: one image,
            # the union of the labels (this is how ImageFolder expresses multi-label). CSV rows
            # that disagree were refused before anything was read.
            if it.labels is not None:
                first.labels = tuple(dict.fromkeys((first.labels or ()) + it.labels))
            first.boxes += it.boxes
            continue
        by_path[it.path] = it
        if sha:
            by_sha[sha] = it
        out.append(it)
    return out


def _write(
    conn: sqlite3.Connection,
    items: list[ImportItem],
    report: ImportReport,
    new_classes: list[str],
    *,
    user: str,
    role: str,
) -> None:
    for name in new_classes:
        class_table.insert(conn, name)
    report.classes_added = list(new_classes)
    idx = ClassIndex(conn)
    models = decisions.models(conn, idx)
    for it in items:
        iid = images.find(conn, it.path)
        if iid is None and it.facts.sha256:
            kept = images.path_with_sha256(conn, it.facts.sha256)
            if kept is not None:
                report.duplicates.append((it.path, kept))
                continue
        if it.facts.missing:
            report.missing.append(it.path)
        elif it.facts.unreadable:
            report.unreadable.append(it.path)
        if iid is None:
            iid = images.insert_image(conn, it.path, it.facts, it.source)
            report.new_images += 1
        else:
            report.existing_images += 1
            images.update_facts(conn, iid, it.facts)
        if it.boxes:
            report.boxes += boxes.replace(conn, iid, it.source, it.boxes, idx)
        if it.labels is None:
            continue
        ids = idx.ids_of(it.labels)
        current = events.current_ids(conn, iid)
        if it.source.startswith("voc:") and current is not None:
            continue  # boxes never override a decision
        if current is not None and set(current) == set(ids):
            continue  # re-importing the same labels adds no history
        decisions.record(
            conn,
            iid,
            EventKind.IMPORT,
            ids,
            user=user,
            role=role,
            models=models,
            reason=f"import {it.source}",
        )
        report.labels_written += 1
