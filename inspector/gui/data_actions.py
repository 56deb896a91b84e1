"""File-menu actions on the workspace's data: import a labelled dataset, export labels, back up.

Each runs as a job in a worker with progress in the status bar; an import can be cancelled
(nothing is written then). The dialogs only pick paths: ``import_paths``, ``export_to`` and
``backup_to`` do the work, so tests drive them directly.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QProgressDialog

from inspector.controllers.inspect import InspectController
from inspector.domain import InspectorError, Progress
from inspector.gui.qtcompat import emit
from inspector.gui.workers import Runner

#: Export formats: (menu text, file-dialog filter or None for a folder).
EXPORTS: dict[str, tuple[str, str | None]] = {
    "csv": ("CSV file…", "CSV (*.csv)"),
    "jsonl": ("JSON lines…", "JSON lines (*.jsonl)"),
    "imagefolder": ("Folder per class…", None),
}


class DataActions(QObject):
    """Import / export / backup for a main window (which owns the service and the problems)."""

    done = Signal(str)  # the one-line outcome, also shown in the status bar

    def __init__(self, window: QMainWindow, runner: Runner, controller: InspectController) -> None:
        super().__init__(window)
        self.win = window
        self.runner = runner
        self.ctl = controller
        self._progress: QProgressDialog | None = None

    def _say(self, text: str) -> None:
        self.win.statusBar().showMessage(text, 15000)
        emit(self.done, text)

    def _service(self):
        svc = self.ctl.service
        if svc is None:
            self._say("No workspace database is open: nothing to import, export or back up")
        return svc

    # -- import --------------------------------------------------------------------------------
    def import_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(
            self.win, "Import a labelled dataset (a folder per class, or VOC annotations)"
        )
        if d:
            self.import_paths([d])

    def import_csv_dialog(self) -> None:
        f, _ = QFileDialog.getOpenFileName(
            self.win, "Import labels from a CSV file", "", "CSV (*.csv)"
        )
        if f:
            self.import_paths([f])

    def import_paths(self, paths: list[str]) -> None:
        svc = self._service()
        if svc is None:
            return
        if svc.read_only:
            self._say("The workspace is read-only: nothing can be imported")
            return
        self._progress = QProgressDialog("Importing…", "Cancel", 0, 0, self.win)
        self._progress.setWindowTitle("Import a labelled dataset")
        self._progress.setMinimumDuration(500)  # quick imports never flash a dialog
        self._progress.canceled.connect(lambda: self.runner.cancel("import"))
        self.runner.submit(
            "import",
            svc.import_dataset,
            list(paths),
            on_progress=self._import_progress,
            on_result=lambda report, p=list(paths): self._imported(p, report),
            on_error=self._failed,
            on_finished=self._close_progress,
        )

    def _import_progress(self, p: Progress) -> None:
        if self._progress is not None:
            self._progress.setLabelText(p.message or "Importing…")
            self._progress.setMaximum(p.total)
            self._progress.setValue(p.done)

    def _imported(self, paths: list[str], report) -> None:
        for name in report.missing:
            self.win.add_problem(name, "named by the dataset but not found")
        for name in report.unreadable:
            self.win.add_problem(name, "imported, but the file cannot be decoded")
        self._say(f"Imported: {report.summary()}")
        folders = [p for p in paths if Path(p).is_dir()]
        if folders:  # show what was imported, with its labels
            self.ctl.open_paths(folders)

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.reset()
            self._progress.deleteLater()
            self._progress = None

    def _failed(self, exc: InspectorError) -> None:
        self._close_progress()
        self._say(f"Not done: {exc}")

    # -- export and backup -----------------------------------------------------------------------
    def export_dialog(self, fmt: str) -> None:
        title = f"Export the current labels ({fmt})"
        _text, flt = EXPORTS[fmt]
        if flt is None:
            out = QFileDialog.getExistingDirectory(self.win, title)
            if out:
                out = str(Path(out) / "labels")
        else:
            out, _ = QFileDialog.getSaveFileName(self.win, title, f"labels.{fmt}", flt)
        if out:
            self.export_to(fmt, out)

    def export_to(self, fmt: str, out: str) -> None:
        svc = self._service()
        if svc is None:
            return
        self.win.statusBar().showMessage(f"Exporting labels to {out}…")
        self.runner.submit(
            "export",
            svc.export,
            fmt,
            out,
            on_result=lambda n, o=out: self._say(f"Exported {n} labelled images to {o}"),
            on_error=self._failed,
        )

    def backup_dialog(self) -> None:
        out, _ = QFileDialog.getSaveFileName(
            self.win, "Back up the workspace", "inspector-backup.db", "SQLite (*.db)"
        )
        if out:
            self.backup_to(out)

    def backup_to(self, out: str) -> None:
        svc = self._service()
        if svc is None:
            return
        self.win.statusBar().showMessage(f"Backing up the workspace to {out}…")
        self.runner.submit(
            "backup",
            svc.backup,
            out,
            on_result=lambda path: self._say(f"Workspace backed up to {path}"),
            on_error=self._failed,
        )
