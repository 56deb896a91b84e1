"""A QProcess around ``python -m inspector.training``: lines to the controller, cancel = terminate.

Training never runs in the GUI process: a crash there cannot take the window or the database
down. Cancel sends SIGTERM (the job stops between batches and marks its run cancelled) and
kills the process if it has not ended within :data:`KILL_AFTER_MS`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QProcess, QTimer

from inspector.controllers.finetune import ModelController

KILL_AFTER_MS = 5000


class TrainingRunner(QObject):
    def __init__(self, controller: ModelController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.proc: QProcess | None = None
        self._buf = b""
        self._cancelled = False

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.state() != QProcess.ProcessState.NotRunning

    def start(self, *extra: str) -> None:
        if self.is_running():
            return
        argv = self.controller.command(*extra)
        self.proc = QProcess(self)
        self.proc.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.proc.readyReadStandardOutput.connect(self._read)
        self.proc.finished.connect(self._finished)
        self._buf, self._cancelled = b"", False
        self.controller.started()
        self.proc.start(argv[0], argv[1:])

    def cancel(self) -> None:
        if not self.is_running():
            return
        self._cancelled = True
        self.proc.terminate()
        QTimer.singleShot(KILL_AFTER_MS, self._kill_if_running)

    def _kill_if_running(self) -> None:
        if self.is_running():
            self.proc.kill()

    def _read(self) -> None:
        self._buf += bytes(self.proc.readAllStandardOutput())
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            self.controller.feed(line.decode("utf-8", "replace"))

    def _finished(self, code: int, _status) -> None:
        self._read()
        err = bytes(self.proc.readAllStandardError()).decode("utf-8", "replace").strip()
        if err and code not in (0, 130):
            self.controller.feed(err.splitlines()[-1])
        self.controller.finished(code, cancelled=self._cancelled)

    def shutdown(self) -> None:
        """Window closing: stop a run (it is marked cancelled) and wait briefly."""
        if self.is_running():
            self.cancel()
            if not self.proc.waitForFinished(KILL_AFTER_MS):
                self.proc.kill()
                self.proc.waitForFinished(1000)
