"""Reading import inputs into :class:`ImportItem` s: ImageFolder trees, ``path,labels`` CSV files,
Pascal VOC XML. Nothing here touches the database or decodes an image.

Every input is validated here, before anything is written:

* CSV and VOC image paths must lie inside the import's root: the CSV's or XML's own folder, or
  ``images_root`` when given (checked after resolving ``..`` and symbolic links), unless
  ``allow_outside``. Otherwise a crafted CSV could register ``/etc/shadow``, which a later
  export would copy.
* A CSV may not give one image two different label vectors (two rows, or two CSV files); the
  error names both rows. The same row twice is harmless.

An ImageFolder import is the folder the user named, so it is not confined further.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from inspector.domain import NO_DEFECT
from inspector.store.boxes import RawBox
from inspector.store.errors import ImportFormatError
from inspector.store.images import FileFacts, norm_path
from inspector.voc import VocAnnotation, VocError, neu_image_for_xml, read_voc_annotation

FORMATS = ("imagefolder", "csv", "voc")
#: Folder names / CSV cells meaning "inspected, no defect" (an empty label vector).
NO_DEFECT_NAMES = frozenset({NO_DEFECT, "no_defect", "no-defect", "ok", "none"})


@dataclass(slots=True)
class ImportItem:
    path: str
    labels: tuple[str, ...] | None  # None: the input says nothing about labels
    source: str  # stored with the image and its boxes: "csv:labels.csv", "voc:a.xml"...
    origin: str = ""  # where exactly, for messages: "/data/labels.csv:12"
    boxes: list[RawBox] = field(default_factory=list)
    facts: FileFacts = field(default_factory=FileFacts)


@dataclass(frozen=True, slots=True)
class Confinement:
    """Where image paths named by a CSV/XML may point."""

    images_root: Path | None = None
    allow_outside: bool = False

    def roots(self, input_file: Path) -> list[Path]:
        roots = [input_file.parent]
        if self.images_root is not None:
            roots.append(self.images_root)
        return [Path(os.path.realpath(r)) for r in roots]

    def check(self, image: str, input_file: Path, where: str) -> None:
        if self.allow_outside:
            return
        real = Path(os.path.realpath(image))
        roots = self.roots(input_file)
        if any(real == r or real.is_relative_to(r) for r in roots):
            return
        raise ImportFormatError(
            f"{where}: {image} is outside the import's folder ({' or '.join(map(str, roots))});"
            " pass --images-root DIR for images kept elsewhere, or --allow-outside"
        )


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


def gather(paths: list[Path], fmt: str | None, confine: Confinement) -> list[ImportItem]:
    """Parse every input into items (validated; nothing read from the images yet)."""
    items: list[ImportItem] = []
    for p in paths:
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
            items += parse_csv(p, confine)
        elif kind == "voc":
            items += parse_voc(p, confine)
        else:
            if not p.is_dir():
                raise ImportFormatError(f"{p}: an ImageFolder import needs a folder")
            items += parse_imagefolder(p)
    refuse_conflicting_csv_rows(items)
    return items


def _label_cell(text: str) -> tuple[str, ...]:
    names = [t.strip() for t in text.split(";") if t.strip()]
    if any(n.lower() in NO_DEFECT_NAMES for n in names):
        if len(names) > 1:
            raise ValueError(f"{text!r} mixes 'no defect' with classes")
        return ()
    return tuple(dict.fromkeys(names))


def parse_csv(path: Path, confine: Confinement = Confinement()) -> list[ImportItem]:
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
            where = f"{path}:{reader.line_num}"
            if len(row) <= max(pi, li):
                raise ImportFormatError(f"{where}: expected {len(header)} columns, got {len(row)}")
            if not row[pi].strip():
                raise ImportFormatError(f"{where}: empty path")
            try:
                labels = _label_cell(row[li])
            except ValueError as exc:
                raise ImportFormatError(f"{where}: {exc}") from None
            p = Path(row[pi].strip()).expanduser()
            image = norm_path(p if p.is_absolute() else path.parent / p)
            confine.check(image, path, where)
            items.append(ImportItem(image, labels, f"csv:{path.name}", where))
    except csv.Error as exc:
        raise ImportFormatError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    return items


def refuse_conflicting_csv_rows(items: list[ImportItem]) -> None:
    """One image, two different label vectors from CSV rows: refuse, naming both rows."""
    first: dict[str, ImportItem] = {}
    for it in items:
        if not it.source.startswith("csv:") or it.labels is None:
            continue
        seen = first.setdefault(it.path, it)
        if seen is not it and set(seen.labels or ()) != set(it.labels):
            raise ImportFormatError(
                f"{seen.origin} and {it.origin} give {it.path} different labels"
                f" ({';'.join(seen.labels or ()) or NO_DEFECT} vs"
                f" {';'.join(it.labels) or NO_DEFECT}); keep one row per image"
            )


def parse_imagefolder(root: Path) -> list[ImportItem]:
    """One sub-folder per class; images directly in ``root`` are imported unlabelled."""
    from inspector.imageio import is_image_file

    items = []
    src = f"imagefolder:{root.name}"
    for f in sorted(root.iterdir()):
        if f.is_file() and is_image_file(f):
            items.append(ImportItem(norm_path(f), None, src, str(f)))
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        labels = () if d.name.lower() in NO_DEFECT_NAMES else (d.name,)
        for f in sorted(x for x in d.rglob("*") if x.is_file() and is_image_file(x)):
            items.append(ImportItem(norm_path(f), labels, src, str(f)))
    return items


def _voc_image(xml: Path, ann: VocAnnotation, confine: Confinement) -> Path:
    """Find the image a VOC file describes: the first existing candidate inside the roots; one
    outside only when allowed; else a best guess (to be marked missing)."""
    filename, folder = ann.filename, ann.folder
    candidates: list[Path] = []
    if p := ann.image_path:
        candidates.append(Path(p))
    roots = [r for r in (confine.images_root, xml.parent) if r is not None]
    for r in roots:
        if filename:
            candidates += [r / filename, r / folder / filename]
    stem = Path(filename).stem or xml.stem
    for r in roots:
        if (neu := neu_image_for_xml(xml, r)) is not None:  # crazing_12.xml -> crazing/Cr_12.bmp
            candidates += [neu.with_suffix(ext) for ext in (".bmp", ".jpg", ".png")]
        candidates += [r / f"{stem}{ext}" for ext in (".bmp", ".png", ".jpg", ".jpeg", ".tif")]
    existing = [c for c in candidates if c.is_file()]
    for c in existing:
        try:
            confine.check(norm_path(c), xml, str(xml))
        except ImportFormatError:
            continue
        return c
    if existing:  # only outside the roots: say so rather than import it or call it missing
        confine.check(norm_path(existing[0]), xml, str(xml))
    inside = [c for c in candidates if c != Path(ann.image_path or "\0")]
    return inside[0] if inside else xml.with_suffix(".jpg")


def parse_voc(path: Path, confine: Confinement = Confinement()) -> list[ImportItem]:
    """One XML file or a folder of them; boxes as (class, xmin, ymin, xmax, ymax)."""
    files = sorted(path.glob("*.xml")) if path.is_dir() else [path]
    items = []
    for xml in files:
        try:
            ann = read_voc_annotation(xml)
        except VocError as exc:
            raise ImportFormatError(f"{xml}: not valid Pascal VOC XML ({exc.detail})") from None
        boxes: list[RawBox] = []
        for obj in ann.objects:
            # None: no <bndbox>, or a non-numeric, NaN or inf one
            coords = obj.box.pixels() if obj.box else None
            if coords is None:
                raise ImportFormatError(f"{xml}: an <object> lacks a numeric <bndbox>")
            if not obj.label:
                raise ImportFormatError(f"{xml}: an <object> has no <name>")
            boxes.append((obj.label, coords[0], coords[1], coords[2], coords[3]))
        labels = tuple(dict.fromkeys(b[0] for b in boxes))
        image = norm_path(_voc_image(xml, ann, confine))
        items.append(ImportItem(image, labels, f"voc:{xml.name}", str(xml), boxes))
    return items
