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

import errno
import io
import math
import os
import stat
import struct
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from inspector.domain import ImageLoadError

#: File name suffixes the loader and folder scans accept.
IMAGE_SUFFIXES: frozenset[str] = frozenset({".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff"})

# Line-scan images can be very large; PIL's bomb guard (89 Mpx) would reject real plates. The
# guard is replaced, not raised: PIL only warns between 1x and 2x its limit, and turning that
# into an error per call (warnings.catch_warnings) is not thread-safe, while the GUI and the
# import decode on several threads. _fit_budget checks pixels and memory after Image.open has
# read the header and before any pixel is decoded; this module is the package's one decoder.
_MAX_PIXELS = 400_000_000
Image.MAX_IMAGE_PIXELS = None

#: Decoded pixels may take at most this much memory (a 20000 x 20000 16-bit PNG of 800 KB would
#: need 763 MiB, and several times that while it is converted). Raised with the variable below.
DEFAULT_MEMORY_BUDGET_MB = 512.0
MEMORY_BUDGET_ENV = "INSPECTOR_IMAGE_MEMORY_MB"

# Bytes per pixel of what PIL decodes into (palette images are expanded to RGB afterwards).
_MODE_BYTES = {"1": 1, "L": 1, "P": 3, "LA": 2, "PA": 4, "La": 2, "RGB": 3, "YCbCr": 3, "LAB": 3}
_MODE_BYTES |= {"HSV": 3, "RGBA": 4, "RGBa": 4, "RGBX": 4, "CMYK": 4, "I": 4, "F": 4}
_MODE_BYTES |= {m: 2 for m in ("I;16", "I;16L", "I;16B", "I;16N")}
_MODE_BITS = {"1": 1, "I": 32, "F": 32} | {m: 16 for m in ("I;16", "I;16L", "I;16B", "I;16N")}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_ORIENTATION = 0x0112


def is_image_file(path: str | os.PathLike[str]) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


@dataclass(frozen=True, slots=True)
class ImageScan:
    """What a folder scan found: image files to read, and entries that cannot be (one line each)."""

    files: list[Path] = field(default_factory=list)
    problems: list[ImageLoadError] = field(default_factory=list)


def scan_image_files(paths: list[str] | list[Path]) -> ImageScan:
    """Expand files and folders (recursively, not following folder links) into image files.

    Paths named explicitly are kept as given (:func:`load_image` says what is wrong with them).
    Inside folders, an image-named entry that is not a readable file (a dangling link, a link
    loop, a folder called ``x.bmp``, a pipe) and a sub-folder that cannot be listed each become a
    problem instead of vanishing without a word.
    """
    scan = ImageScan()
    for top in map(Path, paths):
        if not top.is_dir():
            scan.files.append(top)
            continue
        found: list[Path] = []
        for root, dirs, names in os.walk(top, onerror=lambda e: _unlisted(e, scan)):
            for name in sorted(dirs):
                d = os.path.join(root, name)
                if is_image_file(name) and not os.path.islink(d):
                    scan.problems.append(ImageLoadError(d, "is a folder, not an image file"))
            for name in names:
                if not is_image_file(name):
                    continue
                f = Path(root, name)
                if f.is_file():
                    found.append(f)
                else:
                    scan.problems.append(ImageLoadError(str(f), _not_a_file_reason(f)))
        scan.files.extend(sorted(found))
    scan.problems.sort(key=lambda e: e.path)
    return scan


def _unlisted(exc: OSError, scan: ImageScan) -> None:
    """os.walk's error hook: a folder that cannot be listed is a problem, not an empty folder."""
    where = exc.filename or "?"
    if isinstance(exc, PermissionError):
        scan.problems.append(ImageLoadError(where, "permission denied (cannot list it)"))
    else:
        reason = f"cannot list the folder ({exc.strerror or exc})"
        scan.problems.append(ImageLoadError(where, reason))


def iter_image_files(paths: list[str] | list[Path]) -> list[Path]:
    """Expand files and folders (recursively) into a sorted list of image files."""
    return scan_image_files(paths).files


def _not_a_file_reason(path: Path) -> str:
    """Why ``path`` (which ``is_file()`` rejected or which failed to open) is not an image file."""
    try:
        path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
        return "file not found"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link leads back to itself)"
        return f"cannot read the file ({exc.strerror or exc})"
    if path.is_dir():
        return "is a folder, not an image file"
    return "not a regular file (a pipe, socket or device)"


def memory_budget_bytes(path: str = "<bytes>") -> int:
    """The decode budget: :data:`MEMORY_BUDGET_ENV` (MiB) if set, else the default."""
    raw = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MEMORY_BUDGET_MB * 2**20)
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not (mb > 0 and math.isfinite(mb)):
        raise ImageLoadError(path, f"{MEMORY_BUDGET_ENV}={raw!r} is not a number of MiB above 0")
    return int(mb * 2**20)


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f}" if n >= 2**20 else f"{n / 2**20:.2g}"


def _check_png_crcs(data: bytes, path: str) -> None:
    """Every PNG chunk's CRC; Pillow checks only some, and a bad IDAT decodes to wrong pixels."""
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 8 + length
        if end + 4 > len(data):
            return  # truncated: the decoder says so
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(data[pos + 4 : end]) & 0xFFFFFFFF != crc:
            name = kind.decode("latin-1")
            raise ImageLoadError(
                path,
                f"the file is corrupt: its PNG {name} chunk fails the CRC check "
                "(copy or export it again)",
            )
        if kind == b"IEND":
            return
        pos = end + 4


def _too_many_pixels(n: int | None) -> str:
    what = f"claims {n:,} pixels" if n else "is too large"
    return f"the image {what}, more than the {_MAX_PIXELS:,} this tool decodes"


def _fit_budget(im: Image.Image, budget: int, path: str) -> None:
    """Refuse (or, for JPEG, shrink while decoding) an image whose pixels exceed the budget."""
    if im.width * im.height > _MAX_PIXELS:
        raise ImageLoadError(path, _too_many_pixels(im.width * im.height))
    bpp = _MODE_BYTES.get(im.mode, 4)
    need = im.width * im.height * bpp
    if need <= budget:
        return
    if im.format == "JPEG":
        factor = 2
        while factor < 8 and need / factor**2 > budget:
            factor *= 2
        # draft() makes libjpeg decode at 1/2, 1/4 or 1/8 scale: the full image never exists.
        im.draft(im.mode, (max(1, im.width // factor), max(1, im.height // factor)))
        if im.width * im.height * bpp <= budget:
            return
    bits = _MODE_BITS.get(im.mode, 8)
    raise ImageLoadError(
        path,
        f"{im.width}×{im.height} px at {bits}-bit needs {_mib(need)} MiB to decode, over the "
        f"{_mib(budget) if budget % 2**20 else budget // 2**20} MiB memory budget "
        f"(downscale the image, or raise {MEMORY_BUDGET_ENV})",
    )


def _blockwise_uint8(arr: np.ndarray, fn) -> np.ndarray:
    """Apply a float32 pixel mapping a few MB at a time: a full float copy of a 16-bit line-scan
    image would be twice its size again."""
    out = np.empty(arr.shape, np.uint8)
    step = max(1, (1 << 22) // max(1, arr[0].size))
    for r in range(0, arr.shape[0], step):
        out[r : r + step] = fn(arr[r : r + step].astype(np.float32))
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
    if arr.dtype.byteorder == ">":  # big-endian 16-bit TIFFs ("I;16B") compare unequal to uint16
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if arr.dtype in (np.uint16, np.int32, np.uint32, np.int16):
        # 16-bit sensors: scale by the type's full range, not the image max, so two images of the
        # same plate taken at different exposures keep their relative brightness.
        top = 65535.0 if arr.max(initial=0) > 255 or arr.dtype == np.uint16 else 255.0
        return _blockwise_uint8(arr, lambda a: np.clip(a * (255.0 / top), 0, 255).round())
    if np.issubdtype(arr.dtype, np.floating):
        scale = 255.0 if np.nanmax(arr, initial=0) <= 1.0 else 1.0
        return _blockwise_uint8(arr, lambda a: np.clip(np.nan_to_num(a) * scale, 0, 255).round())
    raise ValueError(f"unsupported pixel type {arr.dtype}")


def decode_bmp8(data: bytes, budget_bytes: int) -> np.ndarray | None:
    """The fast path for the line's own format: an uncompressed, complete 8-bit palette BMP.

    NEU plates (and most line-scan exports) are 8-bit BMPs with a 256-entry palette; through
    Pillow they cost ~0.09 ms each, here ~0.01 ms, which matters at hundreds of plates a second.
    The result is the array :func:`decode_image` gives through Pillow, pixel for pixel: a grey
    palette maps each index to itself, any other palette goes through the same RGB->gray
    conversion as a Pillow "P" image. Anything else — another depth, RLE, fewer palette
    entries, a truncated file, over the memory budget — returns None and takes the Pillow path,
    which keeps every check and every error message.
    """
    if len(data) < 54:
        return None
    offset, hdr = struct.unpack_from("<II", data, 10)
    if hdr < 40 or len(data) < 14 + hdr:
        return None
    width, height, planes, bpp, compression = struct.unpack_from("<iiHHI", data, 18)
    colors = struct.unpack_from("<I", data, 46)[0] or 256
    rows = abs(height)
    if planes != 1 or bpp != 8 or compression != 0 or colors != 256 or width <= 0 or rows == 0:
        return None
    if width * rows > min(_MAX_PIXELS, budget_bytes):
        return None
    stride = (width + 3) & ~3
    pal_at = 14 + hdr
    if pal_at + 4 * colors > offset or offset + stride * rows > len(data):
        return None
    bgrx = np.frombuffer(data, np.uint8, 4 * colors, pal_at).reshape(colors, 4)
    if (bgrx[:, 0] == np.arange(colors)).all() and (bgrx[:, :3] == bgrx[:, :1]).all():
        lut = None  # grey palette: Pillow opens it as mode "L", the index is the grey value
    else:
        lut = cv2.cvtColor(np.ascontiguousarray(bgrx[None, :, 2::-1]), cv2.COLOR_RGB2GRAY)[0]
    pixels = np.frombuffer(data, np.uint8, stride * rows, offset).reshape(rows, stride)
    gray = pixels[::-1, :width] if height > 0 else pixels[:, :width]  # positive height: bottom-up
    return np.ascontiguousarray(gray if lut is None else lut[gray])


def decode_image(data: bytes, path: str = "<bytes>", budget_bytes: int | None = None) -> np.ndarray:
    """Decode image bytes to a 2-D uint8 grayscale array; raise :class:`ImageLoadError`.

    The header is checked against the memory budget (``budget_bytes``, default
    :func:`memory_budget_bytes`) before any pixel is decoded; a JPEG over it is decoded at a
    reduced scale instead. EXIF orientation is applied, so the array is the image people see.
    """
    if not data:
        raise ImageLoadError(path, "the file is empty (0 bytes)")
    budget = memory_budget_bytes(path) if budget_bytes is None else budget_bytes
    if data.startswith(b"BM"):
        fast = decode_bmp8(data, budget)
        if fast is not None:
            return fast
    if data.startswith(_PNG_SIGNATURE):
        _check_png_crcs(data, path)
    try:
        with Image.open(io.BytesIO(data)) as im:
            _fit_budget(im, budget, path)
            im.load()  # PIL is lazy: load() is where truncated files raise
            if im.mode == "P":
                im = im.convert("RGBA" if "transparency" in im.info else "RGB")
            elif im.mode in ("LA", "PA"):
                im = im.convert("L")
            elif im.mode == "CMYK":
                im = im.convert("RGB")
            elif im.mode == "1":
                im = im.convert("L")
            if im.getexif().get(_EXIF_ORIENTATION, 1) not in (1, None):
                im = ImageOps.exif_transpose(im)
            arr = np.asarray(im)
    except UnidentifiedImageError:
        raise ImageLoadError(
            path, "not an image file (or a format this tool cannot read)"
        ) from None
    except Image.DecompressionBombError as exc:  # only if someone restored PIL's own guard
        claimed = "".join(c for c in str(exc).split("pixels")[0] if c.isdigit())
        raise ImageLoadError(path, _too_many_pixels(int(claimed) if claimed else None)) from None
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


def read_image_bytes(path: str | os.PathLike[str], budget_bytes: int | None = None) -> bytes:
    """The bytes of an image file, or :class:`ImageLoadError` saying why not in the user's words.

    Links, folders, pipes and files larger than the memory budget are refused before anything
    is read; "permission denied" is never reported as "not found". For callers that need the
    bytes too (an import hashes them), followed by :func:`decode_image`.
    """
    p = Path(path)
    budget = memory_budget_bytes(str(p)) if budget_bytes is None else budget_bytes
    try:
        st = p.stat()
    except OSError:
        raise ImageLoadError(str(p), _not_a_file_reason(p)) from None
    if not stat.S_ISREG(st.st_mode):
        raise ImageLoadError(str(p), _not_a_file_reason(p))
    if st.st_size > budget:
        raise ImageLoadError(
            str(p),
            f"the file is {_mib(st.st_size)} MiB, over the {_mib(budget)} MiB memory budget "
            f"(raise {MEMORY_BUDGET_ENV} to read it)",
        )
    try:
        return p.read_bytes()
    except PermissionError:
        raise ImageLoadError(str(p), "permission denied") from None
    except OSError as exc:
        raise ImageLoadError(str(p), f"cannot read the file ({exc.strerror or exc})") from None


def load_image(path: str | os.PathLike[str], budget_bytes: int | None = None) -> np.ndarray:
    """Read a plate image from disk as 2-D uint8 grayscale, at its own resolution.

    Reads the bytes with Python (unicode paths work on every OS; see :func:`read_image_bytes`)
    and decodes with Pillow, which refuses truncated files instead of returning half an image.
    """
    budget = memory_budget_bytes(str(path)) if budget_bytes is None else budget_bytes
    return decode_image(read_image_bytes(path, budget), str(Path(path)), budget)


#: The resize methods a model card may name.
INTERPOLATIONS: dict[str, int] = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR}
#: Larger model inputs are a typo (or an attack on memory), not a model.
MAX_INPUT_SIZE = 4096


def json_kind(v: object) -> str:
    """How a JSON value is named in an error message ("a list", "null", "the number 3")."""
    names = {list: "a list", dict: "an object", str: "a string", bool: "true/false"}
    return "null" if v is None else names.get(type(v), f"the number {v}")


def _whole(v: object, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v != int(v):
        raise ValueError(f"{name} must be a whole number, not {v!r}")
    return int(v)


def _numbers(v: object, name: str) -> tuple[float, ...]:
    items = list(v) if isinstance(v, list | tuple) else [v]
    if not items or any(isinstance(x, bool) or not isinstance(x, int | float) for x in items):
        raise ValueError(f"{name} must be a list of numbers, not {v!r}")
    return tuple(float(x) for x in items)


@dataclass(frozen=True, slots=True)
class PreprocessSpec:
    """How a 2-D uint8 image becomes the model's input tensor; recorded in every model card."""

    size: int = 200
    channels: int = 1
    mean: tuple[float, ...] = (0.5,)
    std: tuple[float, ...] = (0.5,)
    interpolation: str = "area"  # cv2.INTER_AREA: alias-free when shrinking large plates

    def __post_init__(self) -> None:
        # A spec that cannot be applied must never exist: std 0 turns every plate into NaN, which
        # reads as "no defect" (issue 14 item 2). ValueError names the card field at fault.
        if not 1 <= self.size <= MAX_INPUT_SIZE:
            raise ValueError(
                f"preprocessing.size must be between 1 and {MAX_INPUT_SIZE} px, not {self.size}"
            )
        if not 1 <= self.channels <= 4:
            raise ValueError(f"preprocessing.channels must be 1 to 4, not {self.channels}")
        for name in ("mean", "std"):
            values = getattr(self, name)
            if len(values) not in (1, self.channels):
                raise ValueError(
                    f"preprocessing.{name} has {len(values)} values for {self.channels} "
                    "channel(s) (give one, or one per channel)"
                )
            if not all(math.isfinite(v) for v in values):
                raise ValueError(f"preprocessing.{name} must be finite, not {list(values)}")
        if not all(v > 0 for v in self.std):
            raise ValueError(f"preprocessing.std must be > 0, not {list(self.std)}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"preprocessing.interpolation {self.interpolation!r} is not one of "
                f"{', '.join(INTERPOLATIONS)}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: object) -> PreprocessSpec:
        """From a card's ``preprocessing`` object; ValueError names the field that is wrong."""
        if not isinstance(d, dict):
            raise ValueError(f"preprocessing must be a JSON object, not {json_kind(d)}")
        missing = [k for k in ("size", "channels", "mean", "std") if k not in d]
        if missing:
            raise ValueError(f"preprocessing lacks {', '.join(missing)}")
        return cls(
            size=_whole(d["size"], "preprocessing.size"),
            channels=_whole(d["channels"], "preprocessing.channels"),
            mean=_numbers(d["mean"], "preprocessing.mean"),
            std=_numbers(d["std"], "preprocessing.std"),
            interpolation=str(d.get("interpolation", "area")),
        )

    def resize(self, gray: np.ndarray) -> np.ndarray:
        """Resize a 2-D uint8 image to size×size (no-op when it already is)."""
        if gray.shape == (self.size, self.size):
            return gray
        interp = INTERPOLATIONS[self.interpolation]
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
