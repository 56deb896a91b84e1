"""Decode any plate image a user may have, and the ONE preprocessing spec.

Training, ONNX inference and SHAP all call :func:`load_image` and :meth:`PreprocessSpec.apply`,
so a tensor the model sees in the GUI is byte-for-byte what it saw in training. A mismatch here
is the classic silent accuracy bug, which is why nothing else in the package resizes or normalises.

>>> spec = PreprocessSpec(size=200, channels=1, mean=(0.5,), std=(0.5,))
>>> x = spec.apply(np.full((120, 90), 128, np.uint8))    # e.g. load_image("plate.png")
>>> x.shape, x.dtype
((1, 200, 200), dtype('float32'))
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from inspector.domain import ImageLoadError

#: File name suffixes the loader and folder scans accept.
IMAGE_SUFFIXES: frozenset[str] = frozenset({".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})

# Line-scan images can be very large; PIL's bomb guard (89 Mpx) would reject real plates.
_MAX_PIXELS = 400_000_000
Image.MAX_IMAGE_PIXELS = _MAX_PIXELS


def is_image_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def iter_image_files(paths: list[str] | list[Path]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of image files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_image_file(f)))
        else:
            out.append(p)
    return out


def _to_gray_uint8(arr: np.ndarray) -> np.ndarray:
    """Any decoded array (8/16-bit, 32-bit int/float, gray/RGB/RGBA) -> 2-D uint8 gray."""
    if arr.ndim == 3:
        if arr.shape[2] == 4:  # RGBA: the alpha channel carries no surface information
            arr = arr[:, :, :3]
        if arr.shape[2] == 3:
            arr = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2GRAY)
        elif arr.shape[2] == 1:
            arr = arr[:, :, 0]
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype in (np.uint16, np.int32, np.uint32, np.int16):
        # 16-bit sensors: scale by the type's full range, not the image max, so two images of the
        # same plate taken at different exposures keep their relative brightness.
        top = 65535.0 if arr.max(initial=0) > 255 or arr.dtype == np.uint16 else 255.0
        return np.clip(arr.astype(np.float32) * (255.0 / top), 0, 255).round().astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        a = np.nan_to_num(arr.astype(np.float32))
        scale = 255.0 if a.max(initial=0) <= 1.0 else 1.0
        return np.clip(a * scale, 0, 255).round().astype(np.uint8)
    raise ValueError(f"unsupported pixel type {arr.dtype}")


def decode_image(data: bytes, path: str = "<bytes>") -> np.ndarray:
    """Decode image bytes to a 2-D uint8 grayscale array; raise :class:`ImageLoadError`."""
    if not data:
        raise ImageLoadError(path, "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                im.load()  # PIL is lazy: load() is where truncated files raise
                if im.mode == "P":
                    im = im.convert("RGBA" if "transparency" in im.info else "RGB")
                elif im.mode in ("LA", "PA"):
                    im = im.convert("L")
                elif im.mode == "CMYK":
                    im = im.convert("RGB")
                elif im.mode == "1":
                    im = im.convert("L")
                arr = np.asarray(im)
    except UnidentifiedImageError:
        raise ImageLoadError(
            path, "not an image file (or a format this tool cannot read)"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(path, f"image is larger than {_MAX_PIXELS:,} pixels") from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__
        if "truncated" in reason.lower() or isinstance(exc, SyntaxError):
            reason = f"the file is truncated or corrupt ({reason})"
        raise ImageLoadError(path, reason) from None
    if arr.size == 0 or min(arr.shape[:2]) < 1:
        raise ImageLoadError(path, "the image has no pixels")
    try:
        return _to_gray_uint8(arr)
    except ValueError as exc:
        raise ImageLoadError(path, str(exc)) from None


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a plate image from disk as 2-D uint8 grayscale, at its own resolution.

    Reads the bytes with Python (unicode paths work on every OS) and decodes with Pillow, which
    refuses truncated files instead of returning half an image.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(str(p), "file not found") from None
    except IsADirectoryError:
        raise ImageLoadError(str(p), "is a folder, not an image file") from None
    except PermissionError:
        raise ImageLoadError(str(p), "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(str(p), f"cannot read the file ({exc.strerror or exc})") from None
    return decode_image(data, str(p))


@dataclass(frozen=True, slots=True)
class PreprocessSpec:
    """How a 2-D uint8 image becomes the model's input tensor; recorded in every model card."""

    size: int = 200
    channels: int = 1
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.5,)
    interpolation: str = "area"  # cv2.INTER_AREA: alias-free when shrinking large plates

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PreprocessSpec:
        return cls(
            size=int(d["size"]),
            channels=int(d["channels"]),
            mean=tuple(float(v) for v in d["mean"]),
            std=tuple(float(v) for v in d["std"]),
            interpolation=str(d.get("interpolation", "area")),
        )

    def resize(self, gray: np.ndarray) -> np.ndarray:
        """Resize a 2-D uint8 image to size×size (no-op when it already is)."""
        if gray.shape == (self.size, self.size):
            return gray
        interp = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR}[self.interpolation]
        if interp == cv2.INTER_AREA and min(gray.shape) < self.size:
            interp = cv2.INTER_LINEAR  # INTER_AREA degrades to nearest when enlarging
        return cv2.resize(gray, (self.size, self.size), interpolation=interp)

    def normalize(self, gray: np.ndarray) -> np.ndarray:
        """size×size uint8 -> (C, size, size) float32, normalised."""
        x = gray.astype(np.float32) * (1.0 / 255.0)
        mean = np.asarray(self.mean, np.float32)[:, None, None]
        std = np.asarray(self.std, np.float32)[:, None, None]
        x = np.broadcast_to(x[None], (self.channels, *x.shape))
        return ((x - mean) / std).astype(np.float32)

    def apply(self, gray: np.ndarray) -> np.ndarray:
        """2-D uint8 image of any size -> (C, size, size) float32 model input."""
        return self.normalize(self.resize(gray))

    def load(self, path: str | os.PathLike[str]) -> np.ndarray:
        return self.apply(load_image(path))
