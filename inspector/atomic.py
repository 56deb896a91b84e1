"""Atomic file writes: readers see the old content or the new, never half of it.

Every file the application writes in place (model cards, checkpoints, explanation cache entries,
the background set, the GUI's settings) goes through here: the bytes go to a temporary file in the
same folder, are flushed to disk (fsync), and the file is renamed over the target with
:func:`os.replace`, which is atomic on POSIX and Windows. A crash mid-write leaves the previous
file intact and at most a hidden ``.<name>.*`` temporary, never a truncated target.

Bottom layer: standard library only, so the GUI can use it at start-up without paying for numpy
or OpenCV.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_json(folder / "sub" / "card.json", {"version": "v1"}).name
'card.json'
>>> (folder / "sub" / "card.json").read_text()
'{\\n  "version": "v1"\\n}\\n'
>>> with replacing(folder / "weights.bin") as tmp:
...     _ = tmp.write_bytes(b"\\x00" * 4)   # any writer that wants a file name
>>> (folder / "weights.bin").stat().st_size
4
>>> sorted(p.name for p in folder.iterdir())   # no temporaries left behind
['sub', 'weights.bin']
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["replace_dir", "replacing", "write_bytes", "write_json", "write_text"]

#: mkstemp makes owner-only files; what we write is shared, read-only data (as ``open()`` would
#: make it under the usual umask).
FILE_MODE = 0o644


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error, move it there.

    For writers that insist on a file name (``safetensors.save_file``, ``cv2.imwrite``,
    ``np.save``): write to the yielded path, and the finished file replaces ``path`` atomically.
    The temporary keeps the target's suffix, for writers that pick the format by it. On an
    exception the temporary is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the writer may not have flushed to disk
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating the folder); return the path."""
    target = Path(path)
    with replacing(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
    return target


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (creating the folder); return the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike[str], obj: Any, indent: int = 2) -> Path:
    """Write ``obj`` as indented JSON with a final newline, atomically; return the path."""
    return write_text(path, json.dumps(obj, indent=indent) + "\n")


def replace_dir(staging: str | os.PathLike[str], final: str | os.PathLike[str]) -> Path:
    """Move a fully written ``staging`` folder to ``final``, replacing an older folder there.

    Two renames (old out of the way, new into place): a crash between them leaves the old
    version as ``.<name>.old`` and no half-written folder under the final name.
    """
    staging, final = Path(staging), Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, final)
    return final
