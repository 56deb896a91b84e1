"""Watch-folder mode for a line camera: report image files that appear in a folder.

``QFileSystemWatcher`` wakes us quickly on local disks; a slow poll (every 2 s) catches what it
misses (network shares, very busy folders). Either way the folder is *listed in a worker*, never
on the GUI thread, by :func:`inspector.controllers.watching.scan_folder`, which reports a file only
once it decodes completely (a camera still writing it would otherwise be read half-written).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from inspector.controllers.watching import scan_folder
from inspector.gui.qtcompat import emit
from inspector.gui.workers import Runner


class FolderWatcher(QObject):
    """Emit ``new_files(list[str])`` (oldest first) for image files appearing in ``folder``."""

    new_files = Signal(list)
    problem = Signal(str)

    def __init__(
        self,
        runner: Runner,
        parent: QObject | None = None,
        poll_ms: int = 2000,
        settle_ms: int = 250,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self.folder: str = ""
        self._known: set[str] = set()
        self._sizes: dict[str, int] = {}
        self._fs = QFileSystemWatcher(self)
        self._fs.directoryChanged.connect(self._schedule)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._scan)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(settle_ms)
        self._settle.timeout.connect(self._scan)

    @property
    def active(self) -> bool:
        return bool(self.folder)

    def start(self, folder: str, existing: bool = True) -> None:
        """Watch ``folder``; with ``existing`` the files already there are reported first."""
        self.stop()
        folder = os.path.abspath(folder)
        if not Path(folder).is_dir():
            emit(self.problem, f"cannot watch {folder}: not a folder")
            return
        self.folder = folder
        if not existing:
            self._known = {os.path.abspath(e.path) for e in os.scandir(folder)}
        self._fs.addPath(folder)
        self._poll.start()
        self._scan()

    def stop(self) -> None:
        if self.folder:
            self._fs.removePaths(self._fs.directories())
        self.folder = ""
        self._poll.stop()
        self._settle.stop()
        self._runner.cancel("watch")
        self._known.clear()
        self._sizes.clear()

    def _schedule(self, *_: object) -> None:
        self._settle.start()

    def _scan(self) -> None:
        if not self.folder or self._runner.is_running("watch"):
            return
        folder = self.folder
        self._runner.submit(
            "watch",
            scan_folder,
            folder,
            frozenset(self._known),
            dict(self._sizes),
            on_result=lambda r, f=folder: self._on_scan(f, r),
            on_error=lambda e: emit(self.problem, f"watch folder: {e}"),
        )

    def _on_scan(self, folder: str, result: tuple[list[str], dict[str, int]]) -> None:
        if folder != self.folder:
            return
        ready, growing = result
        self._sizes = growing
        self._known.update(ready)
        if growing:
            self._settle.start()  # look again soon instead of waiting for the poll
        if ready:
            emit(self.new_files, ready)
