"""The user's GUI settings: name, role, last workspace, recent folders — one small JSON file.

Lives in ``platformdirs.user_config_dir("plate-inspector")``, or in ``$INSPECTOR_CONFIG_DIR``
(tests point it at a tmp folder, so they never read or write the real user's settings). A JSON
file rather than QSettings: readable, diffable, and the same on every OS.

>>> s = Settings.load()                       # doctest: +SKIP
>>> s.user, s.role
('ana', 'inspector')
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inspector import atomic
from inspector.domain import Role
from inspector.paths import config_dir

log = logging.getLogger(__name__)

SCHEMA = 1


@dataclass
class Settings:
    user: str = ""
    role: str = ""
    last_workspace: str = ""
    recent_folders: list[str] = field(default_factory=list)
    watch_folder: str = ""
    prepare_heatmaps: bool = True  # load torch for heatmaps in the background once idle
    schema: int = SCHEMA

    @property
    def has_identity(self) -> bool:
        return bool(self.user.strip()) and self.role in {r.value for r in Role}

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        f = cls.path()
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable settings %s: %s", f, exc)
            return cls()
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        s = cls(**known)
        s.recent_folders = [str(p) for p in s.recent_folders][:10]
        return s

    def save(self) -> None:
        try:
            atomic.write_text(self.path(), json.dumps(asdict(self), indent=2) + "\n")
        except OSError as exc:  # a read-only home must not stop inspection
            log.warning("cannot save settings to %s: %s", self.path(), exc)

    def add_recent(self, folder: str) -> None:
        self.recent_folders = [folder, *(f for f in self.recent_folders if f != folder)][:10]
