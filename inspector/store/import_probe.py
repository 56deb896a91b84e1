"""Reading every image an import names: hash it and decode it fully, several files at a time.

Decoding the pixels (not only the header) is what catches truncated and corrupt files, which
would otherwise be imported as readable and fail later in training or in the GUI. The decoders
release the GIL, so a few threads keep several cores busy; the job yields progress at least
every ~100 ms and stops between files when cancelled.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from inspector.jobs import CancelFn, Job, check, never
from inspector.store.images import FileFacts
from inspector.store.import_parse import ImportItem

_PROGRESS_EVERY_S = 0.1
MESSAGE = "reading image files"


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def read_file(path: str) -> FileFacts:
    """Hash and fully decode one file; missing and undecodable files are flagged, not raised."""
    from inspector.domain import ImageLoadError
    from inspector.imageio import decode_image

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:  # not there, a folder, no permission: the image cannot be found
        return FileFacts(missing=True)
    facts = FileFacts(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    try:
        pixels = decode_image(data, path)
    except ImageLoadError:
        facts.unreadable = True
        return facts
    facts.height, facts.width = int(pixels.shape[0]), int(pixels.shape[1])
    return facts


def probe_all(items: Sequence[ImportItem], cancel: CancelFn = never) -> Job[None]:
    """Fill every item's :class:`FileFacts`, in parallel (a job: progress, cancel)."""
    from inspector.domain import Progress

    total = len(items)
    yield Progress(0, total, MESSAGE)
    if not items:
        return
    done = 0
    last = time.monotonic()
    pending: dict[Future[FileFacts], ImportItem] = {}
    todo = iter(items)
    window = 4 * workers()  # a few queued per thread; no 100,000 futures at once
    with ThreadPoolExecutor(workers(), thread_name_prefix="import-probe") as pool:
        try:
            while True:
                check(cancel)
                while len(pending) < window and (it := next(todo, None)) is not None:
                    pending[pool.submit(read_file, it.path)] = it
                if not pending:
                    break
                finished, _ = wait(pending, timeout=_PROGRESS_EVERY_S, return_when=FIRST_COMPLETED)
                for fut in finished:
                    pending.pop(fut).facts = fut.result()
                    done += 1
                if time.monotonic() - last >= _PROGRESS_EVERY_S or done == total:
                    last = time.monotonic()
                    yield Progress(done, total, MESSAGE)
        finally:
            for fut in pending:
                fut.cancel()
