"""Pascal VOC XML boxes (the NEU-DET annotations) and the NEU-CLS <-> NEU-DET file-name mapping.

>>> boxes = read_voc("neu-det-annotations/scratches_12.xml")  # doctest: +SKIP
>>> boxes[0]  # doctest: +SKIP
Box(label='scratches', xmin=13.0, ymin=1.0, xmax=52.0, ymax=200.0)
>>> neu_xml_for_image(Path("neu-cls/scratches/Sc_12.bmp"), Path("neu-det-annotations")).as_posix()
'neu-det-annotations/scratches_12.xml'
>>> neu_image_for_xml(Path("det/scratches_12.xml"), Path("neu-cls")).as_posix()
'neu-cls/scratches/Sc_12.bmp'

The one place VOC files are parsed: training (extra labels), the label store (box import),
explanations (box agreement) and the GUI (box overlay) all read through here. Callers that must
tolerate odd objects use :func:`read_voc_annotation`, which keeps every ``<object>`` (a missing or
non-numeric ``<bndbox>`` is recorded, not raised); :func:`read_voc` is the strict form.

Bottom layer: Qt-free, imports only the standard library and :mod:`inspector.domain`.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.domain import DatasetError, VocError

__all__ = [
    "NEU_PREFIX",
    "Box",
    "VocAnnotation",
    "VocError",
    "VocObject",
    "annotation_beside",
    "class_mask_beside",
    "neu_image_for_xml",
    "neu_xml_for_image",
    "read_voc",
    "read_voc_annotation",
]

#: NEU-DET annotations are named ``<class>_<n>.xml``; the NEU-CLS images ``<class>/<Prefix>_<n>.bmp``.
NEU_PREFIX: dict[str, str] = {
    "crazing": "Cr",
    "inclusion": "In",
    "patches": "Pa",
    "pitted_surface": "PS",
    "rolled-in_scale": "RS",
    "scratches": "Sc",
}

_COORDS = ("xmin", "ymin", "xmax", "ymax")

#: The largest pixel coordinate accepted (int32, what OpenCV and numpy indexing take).
MAX_COORDINATE = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Box:
    """One ``<object>`` box in VOC pixel coordinates (1-based, inclusive), as written in the file."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def name(self) -> str:
        """The VOC tag is ``<name>``; :mod:`inspector.explain` reads ``box.name``."""
        return self.label

    def pixels(self) -> tuple[int, int, int, int] | None:
        """(xmin, ymin, xmax, ymax) as whole pixels (truncated), or None if one is NaN or infinite.

        The one conversion for callers that draw or store boxes as integers.

        >>> Box("scratches", 13.0, 1.9, 52.0, 200.0).pixels()
        (13, 1, 52, 200)
        >>> Box("scratches", float("nan"), 1.0, 52.0, 200.0).pixels() is None
        True
        """
        try:
            return (int(self.xmin), int(self.ymin), int(self.xmax), int(self.ymax))
        except (ValueError, OverflowError):  # NaN or inf
            return None


@dataclass(frozen=True, slots=True)
class VocObject:
    """One ``<object>``: its (stripped) label and its box.

    ``box`` is None when the object has no ``<bndbox>`` (``problem`` None) or a coordinate that
    is missing, not a number, or not a finite pixel position (``problem`` says which).
    """

    label: str
    box: Box | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class VocAnnotation:
    """A parsed VOC file: every ``<object>`` in document order plus the image fields."""

    path: Path
    objects: tuple[VocObject, ...]
    filename: str = ""  # <filename>
    folder: str = ""  # <folder>
    image_path: str = ""  # <path>
    size_text: tuple[str | None, str | None] | None = None  # raw <size> width/height

    @property
    def labels(self) -> set[str]:
        """The non-empty labels of every object, boxed or not."""
        return {o.label for o in self.objects} - {""}

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) the boxes refer to; (0, 0) without ``<size>``. VocError if not integers."""
        if self.size_text is None:
            return (0, 0)
        try:
            return (int(self.size_text[0]), int(self.size_text[1]))  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise VocError(str(self.path), "non-numeric <size>", str(exc)) from None

    def boxes(self) -> list[Box]:
        """The boxes; objects without ``<bndbox>`` are skipped, a non-numeric one raises VocError."""
        out = []
        for o in self.objects:
            if o.problem is not None:
                raise VocError(str(self.path), o.problem, o.problem)
            if o.box is not None:
                out.append(o.box)
        return out


def _object(obj: ET.Element) -> VocObject:
    label = (obj.findtext("name") or "").strip()
    bb = obj.find("bndbox")
    if bb is None:
        return VocObject(label, None)
    coords = []
    for k in _COORDS:
        text = bb.findtext(k)
        try:
            coords.append(float(text))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            what = f"no <{k}>" if text is None else f"<{k}> {text!r} is not a number"
            return VocObject(label, None, f"an <object> has a non-numeric <bndbox> ({what})")
        # float() takes "1e300", "inf" and "nan"; as pixel positions they overflow int, SQLite
        # and OpenCV downstream (issue 14 item 10), so they are refused here, once.
        if not abs(coords[-1]) <= MAX_COORDINATE:
            what = f"<{k}> {text.strip()!r} is not a pixel coordinate"  # type: ignore[union-attr]
            return VocObject(
                label,
                None,
                f"an <object> has an unusable <bndbox> ({what}: finite, within "
                f"±{MAX_COORDINATE:,})",
            )
    return VocObject(label, Box(label, *coords))


def read_voc_annotation(path: str | os.PathLike[str]) -> VocAnnotation:
    """Parse one VOC file, keeping every object; VocError only if it cannot be read as XML."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise VocError(str(path), f"not valid Pascal VOC XML ({exc})", str(exc)) from None
    except (
        OSError
    ) as exc:  # permission denied, a folder, a link loop: readable XML or not is unknown
        detail = exc.strerror or str(exc)
        raise VocError(str(path), f"cannot read the file ({detail})", detail) from None
    size = root.find("size")
    return VocAnnotation(
        path,
        tuple(_object(o) for o in root.iter("object")),
        filename=(root.findtext("filename") or "").strip(),
        folder=(root.findtext("folder") or "").strip(),
        image_path=(root.findtext("path") or "").strip(),
        size_text=None if size is None else (size.findtext("width"), size.findtext("height")),
    )


def read_voc(path: str | os.PathLike[str]) -> list[Box]:
    """The boxes of one VOC file, in file order.

    Raises VocError (with the path and the reason) when the file is unreadable or not XML, or an
    ``<object>``'s ``<bndbox>`` has a missing or non-numeric coordinate. Objects without any
    ``<bndbox>`` are skipped.
    """
    return read_voc_annotation(path).boxes()


def neu_xml_for_image(
    image_path: str | os.PathLike[str], boxes_dir: str | os.PathLike[str], cls: str | None = None
) -> Path:
    """NEU-CLS ``<class>/<Prefix>_<n>.bmp`` -> NEU-DET ``boxes_dir/<class>_<n>.xml`` (may not exist).

    ``cls`` defaults to the image's folder name.
    """
    image_path = Path(image_path)
    n = image_path.stem.rsplit("_", 1)[-1]
    return Path(boxes_dir) / f"{image_path.parent.name if cls is None else cls}_{n}.xml"


def neu_image_for_xml(
    xml_path: str | os.PathLike[str], images_root: str | os.PathLike[str]
) -> Path | None:
    """NEU-DET ``<class>_<n>.xml`` -> ``images_root/<class>/<Prefix>_<n>.bmp`` (may not exist).

    None when the XML name is not a NEU class followed by a number.
    """
    cls, _, n = Path(xml_path).stem.rpartition("_")
    if cls not in NEU_PREFIX or not n.isdigit():
        return None
    return Path(images_root) / cls / f"{NEU_PREFIX[cls]}_{n}.bmp"


def box_mask(shape: tuple[int, int], boxes: list[Box], ref_size: tuple[int, int]) -> np.ndarray:
    """Union of ``boxes`` as a bool (H, W) mask; box pixels are scaled from ``ref_size`` (w, h).

    VOC pixel coordinates are 1-based and inclusive.
    """
    h, w = shape
    sx = w / ref_size[0] if ref_size[0] else 1.0
    sy = h / ref_size[1] if ref_size[1] else 1.0
    mask = np.zeros((h, w), bool)
    for b in boxes:
        x0, x1 = int(np.floor((b.xmin - 1) * sx)), int(np.ceil(b.xmax * sx))
        y0, y1 = int(np.floor((b.ymin - 1) * sy)), int(np.ceil(b.ymax * sy))
        mask[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)] = True
    return mask


def read_sized_boxes(path: str | Path) -> tuple[tuple[int, int], list[Box]]:
    """((width, height) the boxes refer to, boxes) of one VOC annotation file."""
    try:
        ann = read_voc_annotation(path)
        return ann.size, ann.boxes()
    except VocError as exc:
        raise DatasetError(f"{path}: not a readable Pascal VOC annotation ({exc.detail})") from None


def det_xml_for(image_path: Path, boxes_dir: Path) -> Path | None:
    """NEU-CLS ``<class>/<Prefix>_<n>.bmp`` -> NEU-DET ``<class>_<n>.xml`` (None if absent)."""
    xml = neu_xml_for_image(image_path, boxes_dir)
    return xml if xml.is_file() else None


def annotation_beside(image_path: str | os.PathLike[str]) -> Path | None:
    """The Pascal VOC file of an image: ``stem.xml`` beside it, or in an ``annotations`` folder
    beside it or one level up (None when there is none)."""
    p = Path(image_path)
    candidates = [p.with_suffix(".xml")]
    for name in ("annotations", "Annotations", "ANNOTATIONS"):
        candidates += [p.parent / name / f"{p.stem}.xml", p.parent.parent / name / f"{p.stem}.xml"]
    return next((c for c in candidates if c.is_file()), None)


def class_mask_beside(
    image_path: str | os.PathLike[str], cls: str, shape: tuple[int, int]
) -> np.ndarray | None:
    """The boxes of class ``cls`` from the image's VOC file as a mask of ``shape`` (None when
    there is no readable file or no box of that class)."""
    xml = annotation_beside(image_path)
    if xml is None:
        return None
    try:
        ann = read_voc_annotation(xml)
        mine = [b for b in ann.boxes() if b.label == cls]
    except VocError:
        return None
    return box_mask(shape, mine, ann.size) if mine else None
