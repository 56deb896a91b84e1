"""Import images and labels: ImageFolder trees, ``path,labels`` CSV files, Pascal VOC XML.

Importing is two phases. First every input is parsed and validated and every image file is
hashed and probed (this is the slow part and yields :class:`~inspector.domain.Progress`);
any bad input raises :class:`ImportFormatError` *before* anything is written. Then everything is
written in one transaction, so an import is all-or-nothing.

>>> report = import_paths(store, ["data/neu-cls"], user="ana")          # doctest: +SKIP
>>> for step in iter_import(store, ["labels.csv"], user="ana"):          # doctest: +SKIP
...     print(step.done, step.total, step.message)
>>> step.extra["report"].summary()                                      # doctest: +SKIP
'1800 images (1800 new), 1800 labels written, 0 duplicates, 0 missing'

Rules: image paths are stored absolute; a CSV's relative paths are relative to the CSV. An empty
``labels`` cell (or ``no defect``) means "no defect". Files that do not exist are added and marked
missing; files with the same SHA-256 as another image are reported as duplicates and skipped
(inside one ImageFolder import, the same file under several class folders is one image with
several labels). VOC boxes are always kept; their classes become the image's label only when it
has none yet, so importing boxes never overrides a person's decision.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from inspector.domain import NO_DEFECT, Progress, Role
from inspector.store import events, images, predictions
from inspector.store.classes import ClassIndex
from inspector.store.errors import ImportFormatError
from inspector.store.images import norm_path
from inspector.store.mixins.classes import insert_class
from inspector.store.store import LabelStore
from inspector.voc import VocAnnotation, VocError, neu_image_for_xml, read_voc_annotation

FORMATS = ("imagefolder", "csv", "voc")
#: Folder names / CSV cells meaning "inspected, no defect" (an empty label vector).
NO_DEFECT_NAMES = frozenset({NO_DEFECT, "no_defect", "no-defect", "ok", "none"})
_PROGRESS_EVERY_S = 0.1


@dataclass(slots=True)
class ImportItem:
    path: str
    labels: tuple[str, ...] | None  # None: the input says nothing about labels
    source: str
    boxes: list[tuple[str, int, int, int, int]] = field(default_factory=list)
    sha256: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    missing: bool = False


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


# ------------------------------------------------------------------ parsing
def detect_format(path: Path) -> str:
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return "csv"
        if path.suffix.lower() == ".xml":
            return "voc"
        raise ImportFormatError(
            f"{path}: cannot tell the format (expected a folder, .csv or .xml); pass --format"
        )
    if path.is_dir() and any(path.glob("*.xml")):
        return "voc"
    return "imagefolder"


def _label_cell(text: str) -> tuple[str, ...]:
    names = [t.strip() for t in text.split(";") if t.strip()]
    if any(n.lower() in NO_DEFECT_NAMES for n in names):
        if len(names) > 1:
            raise ValueError(f"{text!r} mixes 'no defect' with classes")
        return ()
    return tuple(dict.fromkeys(names))


def parse_csv(path: Path) -> list[ImportItem]:
    """``path,labels`` rows, ``;``-separated labels; relative paths are relative to the CSV."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if "\x00" in text:
        raise ImportFormatError(f"{path}: not a text file (contains NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFormatError(
            f"{path}: the file is empty (expected a header 'path,labels')"
        ) from None
    missing_cols = [c for c in ("path", "labels") if c not in header]
    if missing_cols:
        raise ImportFormatError(
            f"{path}: missing column(s) {', '.join(missing_cols)} "
            f"(found: {', '.join(header) or 'nothing'}); expected 'path,labels'"
        )
    pi, li = header.index("path"), header.index("labels")
    items = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) <= max(pi, li):
                raise ImportFormatError(
                    f"{path}:{line}: expected {len(header)} columns, got {len(row)}"
                )
            if not row[pi].strip():
                raise ImportFormatError(f"{path}:{line}: empty path")
            try:
                labels = _label_cell(row[li])
            except ValueError as exc:
                raise ImportFormatError(f"{path}:{line}: {exc}") from None
            p = Path(row[pi].strip()).expanduser()
            items.append(
                ImportItem(
                    norm_path(p if p.is_absolute() else path.parent / p), labels, f"csv:{path.name}"
                )
            )
    except csv.Error as exc:
        raise ImportFormatError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return items


def parse_imagefolder(root: Path) -> list[ImportItem]:
    """One sub-folder per class; images directly in ``root`` are imported unlabelled."""
    from inspector.imageio import is_image_file

    items = []
    for f in sorted(root.iterdir()):
        if f.is_file() and is_image_file(f):
            items.append(ImportItem(norm_path(f), None, f"imagefolder:{root.name}"))
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        labels = () if d.name.lower() in NO_DEFECT_NAMES else (d.name,)
        for f in sorted(x for x in d.rglob("*") if x.is_file() and is_image_file(x)):
            items.append(ImportItem(norm_path(f), labels, f"imagefolder:{root.name}"))
    return items


def _voc_image(xml: Path, ann: VocAnnotation, images_root: Path | None) -> Path:
    """Find the image a VOC file describes; a best guess (to be marked missing) if none exists."""
    filename, folder = ann.filename, ann.folder
    candidates: list[Path] = []
    if p := ann.image_path:
        candidates.append(Path(p))
    roots = [r for r in (images_root, xml.parent) if r is not None]
    for r in roots:
        if filename:
            candidates += [r / filename, r / folder / filename]
    stem = Path(filename).stem or xml.stem
    for r in roots:
        if (neu := neu_image_for_xml(xml, r)) is not None:  # crazing_12.xml -> crazing/Cr_12.bmp
            candidates += [neu.with_suffix(ext) for ext in (".bmp", ".jpg", ".png")]
        candidates += [r / f"{stem}{ext}" for ext in (".bmp", ".png", ".jpg", ".jpeg", ".tif")]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0] if candidates else xml.with_suffix(".jpg")


def parse_voc(path: Path, images_root: Path | None = None) -> list[ImportItem]:
    """One XML file or a folder of them; boxes as (class, xmin, ymin, xmax, ymax)."""
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    items = []
    for xml in files:
        try:
            ann = read_voc_annotation(xml)
        except VocError as exc:
            raise ImportFormatError(f"{xml}: not valid Pascal VOC XML ({exc.detail})") from None
        boxes = []
        for obj in ann.objects:
            # None: no <bndbox>, or a non-numeric, NaN or inf one
            coords = obj.box.pixels() if obj.box else None
            if coords is None:
                raise ImportFormatError(f"{xml}: an <object> lacks a numeric <bndbox>")
            if not obj.label:
                raise ImportFormatError(f"{xml}: an <object> has no <name>")
            boxes.append((obj.label, *coords))
        labels = tuple(dict.fromkeys(b[0] for b in boxes))
        items.append(
            ImportItem(
                norm_path(_voc_image(xml, ann, images_root)), labels, f"voc:{xml.name}", boxes
            )
        )
    return items


# ------------------------------------------------------------------ probing
def probe(item: ImportItem) -> None:
    """Fill sha256, size, width, height (header only) or mark the item missing."""
    from PIL import Image, UnidentifiedImageError

    try:
        h = hashlib.sha256()
        with open(item.path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        item.sha256 = h.hexdigest()
        item.size = os.path.getsize(item.path)
    except FileNotFoundError:
        item.missing = True
        return
    except OSError:
        item.missing = True
        return
    try:
        with Image.open(item.path) as im:  # reads the header only, not the pixels
            item.width, item.height = im.size
    except (UnidentifiedImageError, OSError, ValueError):
        item.width = item.height = None


# ------------------------------------------------------------------ the job
def _gather(
    paths: Iterable[str | os.PathLike[str]], fmt: str | None, images_root: Path | None
) -> list[ImportItem]:
    items: list[ImportItem] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            raise ImportFormatError(f"{p}: no such file or folder")
        kind = fmt or detect_format(p)
        if kind not in FORMATS:
            raise ImportFormatError(
                f"unknown import format {kind!r}; use one of {', '.join(FORMATS)}"
            )
        if kind == "csv":
            if not p.is_file():
                raise ImportFormatError(f"{p}: a CSV import needs a .csv file, not a folder")
            items += parse_csv(p)
        elif kind == "voc":
            items += parse_voc(p, images_root)
        else:
            if not p.is_dir():
                raise ImportFormatError(f"{p}: an ImageFolder import needs a folder")
            items += parse_imagefolder(p)
    return items


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
            it.path
            for it in items
            if set(it.labels or ()) & set(unknown) or {b[0] for b in it.boxes} & set(unknown)
        )
        raise ImportFormatError(
            f"unknown class(es) {', '.join(map(repr, unknown))} (first in {example});"
            " the workspace "
            f"has {', '.join(store.classes())}; pass --add-classes to create them"
        )
    return unknown


def _merge_duplicates(items: list[ImportItem], report: ImportReport) -> list[ImportItem]:
    by_path: dict[str, ImportItem] = {}
    by_sha: dict[str, ImportItem] = {}
    out = []
    for it in items:
        first = by_path.get(it.path) or (by_sha.get(it.sha256) if it.sha256 else None)
        if first is not None:
            if first.path != it.path:
                report.duplicates.append((it.path, first.path))
            # Same file listed twice, or the same picture under two class folders: one image,
            # the union of the labels (this is how ImageFolder expresses multi-label).
            if it.labels is not None:
                first.labels = tuple(dict.fromkeys((first.labels or ()) + it.labels))
            first.boxes += it.boxes
            continue
        by_path[it.path] = it
        if it.sha256:
            by_sha[it.sha256] = it
        out.append(it)
    return out


def iter_import(
    store: LabelStore,
    paths: Iterable[str | os.PathLike[str]],
    *,
    fmt: str | None = None,
    user: str,
    role: str = Role.ANNOTATOR,
    add_classes: bool = False,
    images_root: str | os.PathLike[str] | None = None,
) -> Iterator[Progress]:
    """Import, yielding Progress; the last one carries ``extra["report"]`` (an ImportReport)."""
    root = Path(images_root).expanduser() if images_root else None
    items = _gather(paths, fmt, root)
    new_classes = _check_classes(store, items, add_classes)
    report = ImportReport()
    total = len(items)
    yield Progress(0, total, "reading image files")
    last = time.monotonic()
    for i, it in enumerate(items, 1):
        probe(it)
        if time.monotonic() - last >= _PROGRESS_EVERY_S or i == total:
            last = time.monotonic()
            yield Progress(i, total, "reading image files")
    items = _merge_duplicates(items, report)
    report.files = len(items)
    yield Progress(total, total, "writing to the database")
    _write(store, items, report, new_classes, user=user, role=str(role))
    yield Progress(total, total, report.summary(), extra={"report": report})


def _write(
    store: LabelStore,
    items: list[ImportItem],
    report: ImportReport,
    new_classes: list[str],
    *,
    user: str,
    role: str,
) -> None:
    with store.bulk_write() as conn:
        for name in new_classes:
            insert_class(conn, name)
        report.classes_added = list(new_classes)
        idx = ClassIndex(conn)
        active = predictions.active_model_id(conn)
        mci = predictions.model_class_ids(conn, idx)
        for it in items:
            row = conn.execute(
                "SELECT id, missing FROM images WHERE path = ?", (it.path,)
            ).fetchone()
            if row is None and it.sha256:
                dup = conn.execute(
                    "SELECT path FROM images WHERE sha256 = ? LIMIT 1", (it.sha256,)
                ).fetchone()
                if dup is not None:
                    report.duplicates.append((it.path, dup[0]))
                    continue
            if it.missing:
                report.missing.append(it.path)
            elif it.width is None:
                report.unreadable.append(it.path)
            if row is None:
                iid = images.insert_image(
                    conn, it.path, it.sha256, it.size, it.width, it.height, it.source, it.missing
                )
                report.new_images += 1
            else:
                iid = int(row[0])
                report.existing_images += 1
                conn.execute(
                    "UPDATE images SET missing = ?, sha256 = coalesce(?, sha256),"
                    " size = coalesce(?, size), width = coalesce(?, width),"
                    " height = coalesce(?, height) WHERE id = ?",
                    (int(it.missing), it.sha256, it.size, it.width, it.height, iid),
                )
            if it.boxes:
                # Re-importing the same XML replaces its boxes instead of doubling them.
                conn.execute(
                    "DELETE FROM boxes WHERE image_id = ? AND source = ?", (iid, it.source)
                )
                ts = events.now()
                conn.executemany(
                    "INSERT INTO boxes (image_id, class_id, xmin, ymin, xmax, ymax, source,"
                    " added_at)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    [(iid, idx.id_of(b[0]), *b[1:], it.source, ts) for b in it.boxes],
                )
                report.boxes += len(it.boxes)
            if it.labels is None:
                continue
            ids = idx.ids_of(it.labels)
            cur = conn.execute(
                "SELECT labels FROM current_labels WHERE image_id = ?", (iid,)
            ).fetchone()
            current = events.loads_ids(cur[0]) if cur else None
            if it.source.startswith("voc:") and current is not None:
                continue  # boxes never override a decision
            if current is not None and set(current) == set(ids):
                continue  # re-importing the same labels adds no history
            events.append(
                conn,
                iid,
                "import",
                ids,
                user=user,
                role=role,
                reason=f"import {it.source}",
                active_model_id=active,
                model_class_ids=mci,
            )
            report.labels_written += 1


def import_paths(
    store: LabelStore,
    paths: Iterable[str | os.PathLike[str]],
    *,
    progress: Callable[[Progress], None] | None = None,
    **kwargs,
) -> ImportReport:
    """Run :func:`iter_import` to the end; ``progress`` is called with each step."""
    step = None
    for step in iter_import(store, paths, **kwargs):
        if progress is not None:
            progress(step)
    assert step is not None
    return step.extra["report"]
