"""The baseline images expected gradients compares against, stored with the model version.

Drawn per class (the same number from each class folder, seeded) from the version's *training*
data, resized to the model's input size and stored as uint8 in ``background.npz``, either inside
the model version folder (ship it with the version) or in the workspace cache keyed by version.
Stored images, not a recipe, because the training folder may change or vanish: the explanation of
an image must stay the same for as long as the model version does.

Usage::

    bg = build_background(card, "../shared/data/neu-cls")
    save_background(bg, Path("models/default") / BACKGROUND_FILE)

Fallback when no training data is known: blurred copies of the image being explained plus its
mean grey (the explanation then says "what the fine detail adds"); ``source`` says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inspector import atomic
from inspector.domain import DatasetError, ModelError
from inspector.imageio import iter_image_files, load_image
from inspector.registry import ModelCard

BACKGROUND_FILE = "background.npz"
FALLBACK_DIGEST = "fallback-blur-v1"


@dataclass(frozen=True)
class Background:
    """Baseline images (N, s, s) uint8 at the model's input size, with where they came from."""

    images: np.ndarray
    labels: tuple[str, ...]
    source: str
    digest: str

    def tensor(self, card: ModelCard) -> np.ndarray:
        """(N, C, s, s) float32 via the model's own preprocessing (resize is a no-op here)."""
        return np.stack([card.preprocessing.apply(g) for g in self.images])


def _digest(images: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest()[:16]


def _train_files(data_dir: Path, cls: str) -> list[Path]:
    """Training images of one class: SPLITS.csv's train rows when present, else the whole folder."""
    splits = data_dir / "SPLITS.csv"
    if splits.is_file():
        with splits.open(newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r.get("split") == "train"]
        return sorted(data_dir / r["path"] for r in rows if Path(r["path"]).parts[0] == cls)
    folder = data_dir / cls
    return iter_image_files([folder]) if folder.is_dir() else []


def build_background(
    card: ModelCard, data_dir: str | os.PathLike[str], per_class: int = 4, seed: int = 0
) -> Background:
    """Draw ``per_class`` training images of every class (seeded) into a :class:`Background`."""
    root = Path(data_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: training data folder not found")
    rs = np.random.RandomState(seed)
    images, labels = [], []
    for cls in card.classes:
        files = _train_files(root, cls)
        if not files:
            continue  # a class without images in this folder: the others still make a background
        for i in sorted(rs.choice(len(files), min(per_class, len(files)), replace=False)):
            images.append(card.preprocessing.resize(load_image(files[i])))
            labels.append(cls)
    if not images:
        raise DatasetError(f"{root}: no training images of the classes {card.classes}")
    arr = np.stack(images).astype(np.uint8)
    source = f"training data: {len(arr)} images ({per_class} per class, seed {seed}) from {root}"
    return Background(arr, tuple(labels), source, _digest(arr))


def fallback_background(gray: np.ndarray, card: ModelCard) -> Background:
    """Blurred copies of the image (3 scales) and its mean grey, at the model's input size."""
    g = card.preprocessing.resize(gray)
    s = g.shape[0]
    copies = [cv2.GaussianBlur(g, (0, 0), sigmaX=s * f) for f in (0.02, 0.05, 0.12)]
    copies.append(np.full_like(g, round(float(g.mean()))))
    source = "fallback: blurred copies of this image + its mean grey (no training data known)"
    return Background(np.stack(copies), ("blur",) * 3 + ("mean",), source, FALLBACK_DIGEST)


def save_background(bg: Background, path: str | os.PathLike[str]) -> Path:
    buf = io.BytesIO()
    np.savez_compressed(
        buf, images=bg.images, labels=np.array(bg.labels), source=np.array(bg.source)
    )
    p = Path(path)
    atomic.write_bytes(p, buf.getvalue())
    return p


def load_background(path: str | os.PathLike[str]) -> Background:
    try:
        with np.load(path, allow_pickle=False) as z:
            images = z["images"].astype(np.uint8)
            return Background(
                images, tuple(str(v) for v in z["labels"]), str(z["source"]), _digest(images)
            )
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable background set ({exc})") from None


def training_data_dir(card: ModelCard, model_dir: Path) -> Path | None:
    """The training folder a card names (``training.data`` / ``data_dir``), if it still exists."""
    raw = card.training.get("data") or card.training.get("data_dir")
    if not raw:
        return None
    p = Path(str(raw)).expanduser()
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, model_dir / p, _repo() / p]
    return next((c for c in candidates if c.is_dir()), None)


def _repo() -> Path:
    return Path(__file__).resolve().parents[2]
