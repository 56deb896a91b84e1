"""The main window: a shell that wires views, menus, status bar and drag-and-drop. No logic."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QProgressBar,
    QTabWidget,
    QWidget,
)

from inspector.controllers.inspect import InspectController
from inspector.controllers.labels import LabelService, open_service
from inspector.controllers.roles import verify_pin
from inspector.controllers.scoring import load_predictor
from inspector.controllers.top_losses import TopLossController
from inspector.domain import InspectorError
from inspector.gui.data_actions import EXPORTS, DataActions
from inspector.gui.dialogs import IdentityDialog, ShortcutsDialog
from inspector.gui.settings import Settings
from inspector.gui.supervisor import SupervisorViews
from inspector.gui.views.inspect import SHORTCUTS, InspectView
from inspector.gui.views.top_losses import SHORTCUTS as TOP_LOSS_SHORTCUTS
from inspector.gui.views.top_losses import TopLossView
from inspector.gui.widgets.history import HistoryDialog
from inspector.gui.widgets.pin_dialog import PinDialog, set_pin_dialog
from inspector.gui.widgets.problems import ProblemsList
from inspector.gui.workers import Runner

log = logging.getLogger(__name__)

#: How often the window checks whether it is idle enough to prepare heatmaps.
WARM_CHECK_MS = 1000


class MainWindow(QMainWindow):
    def __init__(
        self,
        workspace: str | os.PathLike[str],
        settings: Settings,
        model_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Plate Inspector")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.resize(1360, 860)
        self.settings = settings
        self.workspace = str(workspace)
        self.model_dir = str(model_dir) if model_dir else ""
        self.runner = Runner(self, max_threads=3)
        self.service: LabelService | None = None

        self.controller = InspectController(self.runner, self.workspace)
        self._warm_timer = QTimer(self)
        self._warm_timer.setInterval(WARM_CHECK_MS)
        self._warm_timer.timeout.connect(self._warm_heatmaps)
        self.inspect = InspectView(self.controller, self.runner, self)
        self.data = DataActions(self, self.runner, self.controller)
        # one tab per view (inspect, review queues, metrics, model); each view keeps its keys
        self.views = QTabWidget()
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        self.setCentralWidget(self.views)
        self.add_view(self.inspect, "Inspect", "F2")
        self.top_losses = TopLossView(TopLossController(self.runner), self.runner, self)
        self.add_view(self.top_losses, "Top losses", "F3")
        self.views.currentChanged.connect(self._view_shown)
        self.supervisor = SupervisorViews(self)  # F4 sign-off queue, F5 metrics
        self.model_view = self._model_view()
        self.add_view(self.model_view, "Model", "F6")
        self.problems = ProblemsList()
        self.problems_dock = QDockWidget("Problems", self)
        self.problems_dock.setObjectName("problemsDock")
        self.problems_dock.setWidget(self.problems)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.problems_dock.setVisible(False)

        self.user_label = QLabel()
        self.model_label = QLabel("model: loading…")
        self.model_label.setObjectName("modelLabel")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(90)
        self.busy.setVisible(False)
        sb = self.statusBar()
        sb.addPermanentWidget(self.busy)
        sb.addPermanentWidget(self.model_label)
        sb.addPermanentWidget(self.user_label)

        self.controller.message.connect(lambda m: sb.showMessage(m, 8000))
        self.top_losses.ctl.message.connect(lambda m: sb.showMessage(m, 8000))
        self.controller.problem.connect(self.add_problem)
        self.problems.count_changed.connect(self._problems_changed)
        self.runner.busy_changed.connect(self.busy.setVisible)
        self.inspect.welcome_action.connect(
            lambda key: {
                "folder": self.open_folder_dialog,
                "watch": self.watch_folder_dialog,
                "workspace": self.open_workspace_dialog,
                "import": self.data.import_folder_dialog,
            }[key]()
        )
        self._build_menus()
        self._update_user()
        self.open_store()

    # -- menus ---------------------------------------------------------------------------------
    def _action(self, menu, text: str, slot, shortcut: str | QKeySequence | None = None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "Open &folder…", self.open_folder_dialog, QKeySequence.StandardKey.Open)
        self._action(f, "Open &images…", self.open_files_dialog, "Ctrl+Shift+O")
        self.watch_action = self._action(f, "&Watch folder…", self.watch_folder_dialog, "Ctrl+W")
        self._action(f, "Stop watching", self.stop_watching)
        f.addSeparator()
        self._action(f, "Open &workspace…", self.open_workspace_dialog)
        self._action(f, "&Import a labelled dataset…", self.data.import_folder_dialog, "Ctrl+I")
        self._action(f, "Import labels from &CSV…", self.data.import_csv_dialog)
        export = f.addMenu("&Export labels")
        for fmt, (text, _flt) in EXPORTS.items():
            self._action(export, text, lambda _=False, k=fmt: self.data.export_dialog(k))
        self._action(f, "&Back up the workspace…", self.data.backup_dialog)
        self._action(f, "Change &user or role…", self.ask_identity)
        self._action(f, "Set supervisor &PIN…", self.set_pin)
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        v = mb.addMenu("&View")
        self._action(v, "&Fit", self.inspect.fit)
        self._action(v, "&Actual size", self.inspect.actual_size)
        v.addAction(self.problems_dock.toggleViewAction())
        self._action(v, "Label &history…", self.show_history, "Ctrl+H")
        h = mb.addMenu("&Help")
        self._action(h, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(h, "Keyboard shortcuts (?)", self.show_shortcuts, "?").setVisible(False)

    def add_view(self, view: QWidget, title: str, key: str) -> None:
        """Add a view as a tab; ``key`` (F2, F3, …) shows it from anywhere in the window."""
        self.views.addTab(view, f"{title}  ({key})")
        sc = QShortcut(QKeySequence(key), self)
        sc.activated.connect(lambda v=view: self.views.setCurrentWidget(v))

    def _model_view(self) -> QWidget:
        from inspector.controllers.finetune import ModelController
        from inspector.gui.views.model import ModelView

        s = self.settings
        ctl = ModelController(self.workspace, user=s.user or "", role=s.role or "")
        view = ModelView(ctl, self, jobs=self.runner)
        ctl.model_promoted.connect(self.swap_model)
        view.open_image.connect(lambda p: (self.open_paths([p]), self.views.setCurrentIndex(0)))
        return view

    def swap_model(self, model_dir: str) -> None:
        """A promoted / rolled-back version: new ONNX session, what is on screen re-scored."""
        self.model_dir = str(model_dir)
        self.load_model()

    # -- store, model, identity ----------------------------------------------------------------
    def open_store(self) -> None:
        """Open the workspace in a worker (it is checked first); the model loads after it."""
        c = self.model_view.c
        c.workspace, c.user, c.role = Path(self.workspace), self.settings.user, self.settings.role
        if self.service is not None:
            self.service.close()
            self.service = None
        self.controller.set_workspace(self.workspace, None)
        self.runner.submit(
            "store",
            open_service,
            self.workspace,
            self.settings.user,
            self.settings.role,
            on_result=self._store_ready,
        )

    def _store_ready(self, opened: tuple[LabelService | None, str]) -> None:
        self.service, problem = opened
        if problem:
            self.statusBar().showMessage(problem)
            self.add_problem(self.workspace, problem)
        elif self.service is not None and self.service.read_only:
            self.statusBar().showMessage(
                f"Workspace {self.workspace} is read-only: labels will not be saved"
            )
        self.controller.set_workspace(self.workspace, self.service)
        self.supervisor.set_service(self.service)
        self.top_losses.ctl.set_service(self.service)
        if self.isVisible() and self.controller.predictor is None:
            self.load_model()  # registers the model in the store that is now open

    def load_model(self) -> None:
        """Create the ONNX Runtime session in a worker; the window is already on screen."""
        from inspector.registry import default_model_dir

        active = self.model_view.c.active_model_dir()
        model_dir = self.model_dir or active or str(default_model_dir())
        self.model_label.setText("model: loading…")
        self.runner.submit(
            "model",
            load_predictor,
            model_dir,
            self.service,
            on_result=lambda p, d=model_dir: self._model_ready(p, d),
            on_error=self._model_failed,
        )

    def _model_ready(self, predictor, model_dir: str) -> None:
        self.model_label.setText(f"model {predictor.version} · {predictor.device}")
        self.model_label.setToolTip(f"{model_dir}\n{predictor.device}: {predictor.device_reason}")
        self.statusBar().showMessage(
            f"Model {predictor.version} ready on {predictor.device} ({predictor.device_reason})",
            10000,
        )
        self.controller.set_predictor(predictor, model_dir)
        self.supervisor.set_model(predictor, model_dir)
        self.top_losses.ctl.refresh_options()  # the model may have just become the active one
        # torch loads in ~1-10 s: do it when the window is idle, not at the first H
        if self.settings.prepare_heatmaps:
            self._warm_timer.start()

    def _model_failed(self, exc: InspectorError) -> None:
        self.model_label.setText("no model")
        self.model_label.setToolTip(str(exc))
        self.statusBar().showMessage(f"No model: {exc}. You can still browse and label.")

    def ask_identity(self) -> bool:
        dlg = IdentityDialog(self.settings.user, self.settings.role, self)
        if not dlg.exec():
            return False
        user, role = dlg.values()
        if role == "supervisor" != self.settings.role and not self._supervisor_pin_ok():
            return False
        self.settings.user, self.settings.role = user, role
        self.settings.save()
        self._update_user()
        self.open_store()
        return True

    def _supervisor_pin_ok(self) -> bool:
        """Becoming a supervisor asks the workspace's supervisor PIN, when one is set."""
        stored = self.service.pin_hash() if self.service is not None else ""
        if not stored:
            return True
        dlg = PinDialog("Enter the supervisor PIN to sign in as supervisor.", self)
        if dlg.exec() and verify_pin(dlg.pin.text(), stored):
            return True
        self.statusBar().showMessage("Wrong supervisor PIN: the role was not changed", 8000)
        return False

    def set_pin(self) -> None:
        self.statusBar().showMessage(set_pin_dialog(self, self.service), 8000)

    def show_history(self) -> None:
        """The label history of the plate selected in the view shown (Ctrl+H)."""
        if self.views.currentWidget() is self.top_losses:
            path = self.top_losses.current_path()
        else:
            path = self.controller.current
        if path:
            HistoryDialog(self.service, path, self).exec()

    def _warm_heatmaps(self) -> None:
        # Importing torch stalls the window for up to ~0.4 s: only while the inspectors' view
        # (which needs it) is shown and idle, never under a person working in another view.
        if self.views.currentWidget() is self.inspect and self.controller.warm_heatmaps():
            self._warm_timer.stop()

    def _view_shown(self, _index: int) -> None:
        if self.views.currentWidget() is self.top_losses:
            self.top_losses.ctl.reload()  # labels made in other views change the queue

    def _update_user(self) -> None:
        s = self.settings
        self.user_label.setText(f"{s.user or '?'} ({s.role or 'no role'})")
        self.user_label.setObjectName("userLabel")

    # -- opening -------------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        self.controller.open_paths(paths)
        for p in paths:
            if Path(p).is_dir():
                self.settings.add_recent(str(Path(p).absolute()))
        self.settings.save()

    def open_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(
            self, "Open a folder of plate images", (self.settings.recent_folders or [""])[0]
        )
        if d:
            self.open_paths([d])

    def open_files_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open plate images", "", "Images (*.bmp *.png *.jpg *.jpeg *.tif *.tiff)"
        )
        if files:
            self.open_paths(files)

    def watch_folder_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(
            self, "Watch a folder for new images", self.settings.watch_folder
        )
        if d:
            self.watch(d)

    def watch(self, folder: str) -> None:
        self.settings.watch_folder = folder
        self.settings.save()
        self.inspect.watch(folder)
        self.setWindowTitle(f"Plate Inspector — watching {folder}")
        self.statusBar().showMessage(f"Watching {folder} for new images")

    def stop_watching(self) -> None:
        self.inspect.stop_watching()
        self.setWindowTitle("Plate Inspector")

    def open_workspace_dialog(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Open a workspace folder", self.workspace)
        if d:
            self.workspace = d
            self.settings.last_workspace = d
            self.settings.save()
            self.open_store()
            self.statusBar().showMessage(f"Workspace {d}")

    def show_shortcuts(self) -> None:
        rows = [(" / ".join(keys), text) for keys, _name, text in SHORTCUTS]
        rows += [(" / ".join(keys), text) for keys, _name, text in TOP_LOSS_SHORTCUTS[1:]]
        rows += [("Ctrl+H", "Label history of the selected plate (any view)")]
        rows += [("F2 / F3", "Inspect / Top losses view")]
        rows += [
            ("F1 / ?", "This help"),
            ("Ctrl+O", "Open a folder"),
            ("Ctrl+W", "Watch a folder"),
            ("Ctrl+I", "Import a labelled dataset"),
        ]
        rows += self.supervisor.help_rows()
        ShortcutsDialog(rows, self).exec()

    # -- problems, drag and drop, closing --------------------------------------------------------
    def add_problem(self, path: str, reason: str) -> None:
        self.problems.add_problem(path, reason)

    def _problems_changed(self, n: int) -> None:
        self.problems_dock.setWindowTitle(f"Problems ({n})")
        if n and not self.problems_dock.isVisible():
            self.problems_dock.setVisible(True)
            self.resizeDocks([self.problems_dock], [110], Qt.Orientation.Vertical)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.open_paths(paths)
            event.acceptProposedAction()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_model_requested", False):
            self._model_requested = True
            if not self.runner.is_running("store"):
                QTimer.singleShot(0, self.load_model)

    def shutdown(self) -> None:
        """Stop every worker we started and close the store (also used by tests)."""
        self._warm_timer.stop()
        self.inspect.shutdown()
        self.supervisor.shutdown()
        self.top_losses.shutdown()
        self.model_view.shutdown()
        self.runner.shutdown()
        if self.service is not None:
            self.service.close()
            self.service = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
