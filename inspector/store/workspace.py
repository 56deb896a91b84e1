"""Where a workspace lives: a folder holding ``inspector.db`` (and, later, caches).

Resolution order: an explicit path, then the ``INSPECTOR_WORKSPACE`` environment variable, then
the per-user data folder (``platformdirs.user_data_dir("plate-inspector")``).

>>> resolve_workspace("/data/line3")
PosixPath('/data/line3')
>>> database_path("/data/line3")
PosixPath('/data/line3/inspector.db')
"""

from __future__ import annotations

import os
from pathlib import Path

#: The database file inside a workspace folder.
DB_NAME = "inspector.db"
#: Environment variable overriding the default workspace (tests set it to a tmp folder).
ENV_VAR = "INSPECTOR_WORKSPACE"
APP_NAME = "plate-inspector"


def default_workspace() -> Path:
    """``$INSPECTOR_WORKSPACE`` if set, else the per-user data folder."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    # Imported here: platformdirs is cheap, but `inspector --help` should not pay for it.
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder for ``path``; a path to an ``inspector.db`` file means its folder."""
    if path is None or str(path) == "":
        return default_workspace()
    p = Path(path).expanduser()
    if p.name == DB_NAME and not p.is_dir():
        return p.parent
    return p


def database_path(path: str | os.PathLike[str] | None = None) -> Path:
    return resolve_workspace(path) / DB_NAME
