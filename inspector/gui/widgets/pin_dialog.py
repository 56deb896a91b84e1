"""Asking for the supervisor PIN before a supervisor action, and setting it.

Call :func:`ask_supervisor` right before a supervisor-only action (save thresholds, sign off,
promote a model); it returns True when the action may go ahead, and otherwise shows why not::

    if not ask_supervisor(self, service, "save thresholds"):
        return
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from inspector.controllers.roles import (
    PermissionDenied,
    confirm_supervisor,
    pin_is_set,
    require,
    set_supervisor_pin,
)


class PinDialog(QDialog):
    """One masked PIN field (or, for setting it, the current PIN and the new one twice)."""

    def __init__(self, prompt: str, parent: QWidget | None = None, setting: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("pinDialog")
        self.setWindowTitle("Supervisor PIN")
        self.pin = QLineEdit()
        self.new = QLineEdit()
        self.again = QLineEdit()
        for e in (self.pin, self.new, self.again):
            e.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel("")
        self.message.setObjectName("keysHint")
        form = QFormLayout(self)
        form.addRow(QLabel(prompt))
        form.addRow("Current PIN" if setting else "PIN", self.pin)
        if setting:
            form.addRow("New PIN (empty: none)", self.new)
            form.addRow("New PIN again", self.again)
        form.addRow(self.message)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        form.addRow(box)


def ask_supervisor(parent: QWidget | None, service, action: str) -> bool:
    """True when the signed-in person may ``action`` now (supervisor role, and the PIN when the
    workspace has one); otherwise the one-line reason is shown and False returned."""
    try:
        require(service.role if service is not None else "", action)
        pin = None
        if pin_is_set(service):
            dlg = PinDialog(f"Enter the supervisor PIN to {action}.", parent)
            if not dlg.exec():
                return False
            pin = dlg.pin.text()
        confirm_supervisor(service, pin, action)
    except PermissionDenied as exc:
        QMessageBox.warning(parent, "Supervisor action", str(exc))
        return False
    return True


def set_pin_dialog(parent: QWidget | None, service) -> str:
    """Let a supervisor set, change or remove the PIN; returns a one-line outcome."""
    if service is None:
        return "No workspace is open"
    try:
        require(service.role, "set the supervisor PIN")
    except PermissionDenied as exc:
        QMessageBox.warning(parent, "Supervisor PIN", str(exc))
        return str(exc)
    dlg = PinDialog("Set the PIN asked before supervisor actions.", parent, setting=True)
    dlg.pin.setEnabled(pin_is_set(service))
    if not dlg.exec():
        return "PIN unchanged"
    if dlg.new.text() != dlg.again.text():
        QMessageBox.warning(parent, "Supervisor PIN", "the two new PINs differ: PIN unchanged")
        return "PIN unchanged"
    try:
        set_supervisor_pin(service, dlg.new.text(), current=dlg.pin.text() or None)
    except PermissionDenied as exc:
        QMessageBox.warning(parent, "Supervisor PIN", str(exc))
        return str(exc)
    return "Supervisor PIN set" if dlg.new.text() else "Supervisor PIN removed"
