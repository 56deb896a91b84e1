"""Who may do what: supervisor-only actions, and the optional supervisor PIN.

>>> require("supervisor", "save thresholds")
>>> require("inspector", "save thresholds")
Traceback (most recent call last):
...
inspector.domain.PermissionDenied: only a supervisor can save thresholds (you are signed in as inspector)
>>> stored = hash_pin("4711")
>>> verify_pin("4711", stored), verify_pin("1234", stored)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os

from inspector.domain import PermissionDenied, require_supervisor

#: scrypt cost: ~50 ms on a line PC, memory 16 MiB (n * r * 128 bytes).
_N, _R, _P = 2**14, 8, 1


#: The rule itself lives in the domain, shared with the learning loop's model commands.
require = require_supervisor


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of the PIN, as one string to store (never the PIN itself)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches a hash made by :func:`hash_pin` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def pin_is_set(service) -> bool:
    """Whether the workspace has a supervisor PIN (``service``: a LabelService)."""
    return bool(service is not None and service.pin_hash())


def confirm_supervisor(service, pin: str | None, action: str = "do this") -> None:
    """Allow a supervisor action, or raise :class:`PermissionDenied` with a one-line reason.

    The signed-in role must be supervisor; when the workspace has a PIN, ``pin`` must match
    it (the GUI asks it with ``gui.widgets.pin_dialog.ask_supervisor``). Call it right before
    the action (save thresholds, sign off, promote a model)::

        confirm_supervisor(service, pin, "save thresholds")
    """
    require(service.role if service is not None else "", action)
    stored = service.pin_hash()
    if stored and not verify_pin(pin or "", stored):
        raise PermissionDenied("wrong supervisor PIN")


def set_supervisor_pin(service, pin: str, current: str | None = None) -> None:
    """Set (or, with ``pin=""``, remove) the supervisor PIN; only a supervisor can, and when a
    PIN is set already, ``current`` must match it. Stored as a salted scrypt hash."""
    confirm_supervisor(service, current, "set the supervisor PIN")
    if pin and (len(pin) < 4 or not pin.isdigit()):
        raise PermissionDenied("a supervisor PIN is 4 or more digits")
    service.set_pin_hash(hash_pin(pin) if pin else "")
