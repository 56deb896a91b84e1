"""Which files in a watched folder are ready to score: the job behind the watch-folder mode.

A line camera may write a plate in several steps with pauses between them, so "the size did not
change between two looks" is not enough: a file is ready when it decodes completely. One that
still does not decode is looked at again on every scan until it has been left alone for
:data:`GIVE_UP_S` seconds; only then is it reported (and shown as unreadable), so no plate is
read once half-written and then forgotten.
"""

from __future__ import annotations

import os
import time

from inspector.domain import ImageLoadError
from inspector.jobs import CancelFn, check, never

#: A file that does not decode and has not changed for this long is reported as it is.
GIVE_UP_S = 3.0


def scan_folder(
    folder: str,
    known: frozenset[str],
    sizes: dict[str, int],
    cancel: CancelFn = never,
    give_up_s: float = GIVE_UP_S,
) -> tuple[list[str], dict[str, int]]:
    """(new ready files oldest first, sizes of files to look at again) — runs in a worker."""
    from inspector.imageio import is_image_file, load_image

    ready: list[tuple[float, str]] = []
    again: dict[str, int] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return [], {}
    now = time.time()
    for e in entries:
        check(cancel)
        if not e.is_file() or not is_image_file(e.name):
            continue
        p = os.path.abspath(e.path)
        if p in known:
            continue
        try:
            st = e.stat()
        except OSError:
            continue
        if sizes.get(p) != st.st_size or st.st_size == 0:
            again[p] = st.st_size  # new or still growing: look again
            continue
        try:
            load_image(p)
        except ImageLoadError:
            if now - st.st_mtime < give_up_s:  # maybe the camera pauses mid-write
                again[p] = st.st_size
                continue
        ready.append((st.st_mtime, p))
    ready.sort()
    return [p for _, p in ready], again
