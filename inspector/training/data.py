"""Datasets for training: an ImageFolder tree or the NEU layout with SPLITS.csv, as multi-label samples.

For example, the NEU data with the NEU-DET boxes as extra labels::

    ds = read_neu("../shared/data/neu-cls", boxes="../shared/data/neu-det-annotations")
    ds.classes, len(ds.split("train"))    # (('crazing', ..., 'scratches'), 1260)

A sample's target is its folder class plus, when VOC box files are given, every class that has a
box in that image (123 NEU images show a second defect). ``primary`` keeps the folder class for
single-label (top-1) evaluation.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.domain import DatasetError, VocError
from inspector.imageio import is_image_file
from inspector.voc import NEU_PREFIX as NEU_PREFIX  # re-exported: was defined here
from inspector.voc import neu_xml_for_image, read_voc_annotation


@dataclass(frozen=True, slots=True)
class Sample:
    path: Path
    primary: int  # index of the folder class
    labels: frozenset[int]  # every class present (primary included)
    split: str = "train"


@dataclass
class Dataset:
    classes: tuple[str, ...]
    samples: list[Sample] = field(default_factory=list)

    def split(self, name: str) -> list[Sample]:
        return [s for s in self.samples if s.split == name]

    def targets(self, samples: list[Sample], secondary: float = 1.0) -> np.ndarray:
        """(N, K) targets: 1 for the folder class, ``secondary`` for other boxed classes.

        A ``secondary`` just under 1 keeps the folder class (the image's dominant defect) ranked
        first, so top-1 stays meaningful, while the co-occurring defect is still learnt as present.
        """
        y = np.zeros((len(samples), len(self.classes)), dtype=np.float32)
        for i, s in enumerate(samples):
            y[i, sorted(s.labels)] = secondary
            y[i, s.primary] = 1.0
        return y

    def content_hash(self, samples: list[Sample] | None = None) -> str:
        """sha256 over the sorted (relative path, labels) list: identifies the training data."""
        h = hashlib.sha256()
        for s in sorted(
            samples if samples is not None else self.samples, key=lambda s: str(s.path)
        ):
            h.update(f"{s.path.parent.name}/{s.path.name}|{sorted(s.labels)}|{s.split}\n".encode())
        return h.hexdigest()


def read_voc_classes(xml_path: Path) -> set[str]:
    """Class names of every <object> in a Pascal VOC file (boxed or not)."""
    try:
        return read_voc_annotation(xml_path).labels
    except VocError as exc:
        raise DatasetError(f"{xml_path}: not valid Pascal VOC XML ({exc.detail})") from None


def read_imagefolder(
    root: str | os.PathLike[str],
    classes: tuple[str, ...] | None = None,
    boxes: str | os.PathLike[str] | None = None,
    val_fraction: float = 0.15,
    seed: int = 0,
) -> Dataset:
    """A folder per class. Without a split file, a seeded per-class train/val split is made."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found")
    found = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    classes = tuple(classes) if classes else tuple(found)
    if not classes:
        raise DatasetError(f"{root}: no class folders (expected one sub-folder per class)")
    index = {c: i for i, c in enumerate(classes)}
    split_file = root / "SPLITS.csv"
    splits = _read_splits(split_file) if split_file.is_file() else None
    rng = np.random.default_rng(seed)
    ds = Dataset(classes)
    for c in classes:
        files = sorted(f for f in (root / c).rglob("*") if f.is_file() and is_image_file(f))
        if not files:
            raise DatasetError(f"{root / c}: class folder has no images")
        order = rng.permutation(len(files))
        n_val = round(val_fraction * len(files)) if len(files) > 1 else 0
        for rank, j in enumerate(order):
            f = files[j]
            rel = f.relative_to(root).as_posix()
            split = (
                splits.get(rel, "unused")
                if splits is not None
                else ("val" if rank < n_val else "train")
            )
            labels = {index[c]}
            if boxes is not None:
                xml = neu_xml_for_image(f, boxes, cls=c)  # Cr_12.bmp -> crazing_12.xml
                if xml.is_file():
                    labels |= {index[n] for n in read_voc_classes(xml) if n in index}
            ds.samples.append(Sample(f, index[c], frozenset(labels), split))
    return ds


def _read_splits(path: Path) -> dict[str, str]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    if not rows or not {"path", "split"} <= set(rows[0]):
        raise DatasetError(f"{path}: expected columns 'path,split'")
    return {r["path"]: r["split"] for r in rows}


def read_neu(root: str | os.PathLike[str], boxes: str | os.PathLike[str] | None = None) -> Dataset:
    """The NEU-CLS layout (a folder per class + SPLITS.csv), optionally with NEU-DET boxes."""
    root = Path(root)
    if not (root / "SPLITS.csv").is_file():
        raise DatasetError(f"{root}: no SPLITS.csv (is this the NEU-CLS folder?)")
    return read_imagefolder(root, boxes=boxes)
