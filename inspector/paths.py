"""Where things live: the workspace layout, the default model, and the environment variables.

The one place that knows folder names and reads the ``INSPECTOR_*`` variables, so the CLI, the
GUI and the store cannot disagree about where the database, the explanation cache or the logs
of a workspace are.

A workspace is one folder::

    inspector.db        the label store (SQLite, WAL)
    explanations/       the SHAP cache (index + float16 maps)
    logs/inspector.log  the GUI's rotating log

Resolution order for the workspace: an explicit path, then ``$INSPECTOR_WORKSPACE``, then the
per-user data folder (``platformdirs.user_data_dir("plate-inspector")``).

Bottom layer: standard library only (platformdirs is imported when first needed), and nothing is
read at import time: the environment is consulted on each call, so tests can point it elsewhere.

>>> resolve_workspace("/data/line3").as_posix()
'/data/line3'
>>> resolve_workspace("/data/line3/inspector.db").as_posix()   # the database file means its folder
'/data/line3'
>>> explanations_dir("/data/line3").as_posix()
'/data/line3/explanations'
>>> log_file("/data/line3").as_posix()
'/data/line3/logs/inspector.log'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "APP_NAME",
    "CONFIG_DIR_ENV",
    "DB_NAME",
    "EXPLANATIONS_DIR",
    "LOGS_DIR",
    "LOG_FILE",
    "MODEL_ENV",
    "NO_ERROR_DIALOG_ENV",
    "WORKSPACE_ENV",
    "config_dir",
    "database_path",
    "default_model_dir",
    "default_workspace",
    "explanations_dir",
    "log_file",
    "resolve_workspace",
]

#: The name platformdirs files the user's data and settings under.
APP_NAME = "plate-inspector"

#: Overrides the default workspace (tests set it to a tmp folder).
WORKSPACE_ENV = "INSPECTOR_WORKSPACE"
#: Overrides the shipped model folder (``models/default``).
MODEL_ENV = "INSPECTOR_MODEL"
#: Overrides the folder of the GUI's settings file (tests never touch the real user's settings).
CONFIG_DIR_ENV = "INSPECTOR_CONFIG_DIR"
#: Set (to anything) to log unexpected GUI errors without a modal dialog (tests, benchmarks).
NO_ERROR_DIALOG_ENV = "INSPECTOR_NO_ERROR_DIALOG"

#: The database file inside a workspace folder.
DB_NAME = "inspector.db"
#: The explanation cache inside a workspace folder.
EXPLANATIONS_DIR = "explanations"
#: The log folder inside a workspace folder, and the log file in it.
LOGS_DIR = "logs"
LOG_FILE = "inspector.log"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def default_workspace() -> Path:
    """``$INSPECTOR_WORKSPACE`` if set, else the per-user data folder."""
    env = _env_path(WORKSPACE_ENV)
    if env is not None:
        return env
    # Imported here: platformdirs is cheap, but `inspector --help` should not pay for it.
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder for ``path`` (None or "": the default); an ``inspector.db`` file
    means its folder."""
    if path is None or str(path) == "":
        return default_workspace()
    p = Path(path).expanduser()
    if p.name == DB_NAME and not p.is_dir():
        return p.parent
    return p


def database_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The label store's database file of a workspace."""
    return resolve_workspace(workspace) / DB_NAME


def explanations_dir(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The explanation cache folder of a workspace."""
    return resolve_workspace(workspace) / EXPLANATIONS_DIR


def log_file(workspace: str | os.PathLike[str] | None = None) -> Path:
    """The GUI's log file of a workspace."""
    return resolve_workspace(workspace) / LOGS_DIR / LOG_FILE


def default_model_dir() -> Path:
    """``$INSPECTOR_MODEL`` if set, else the shipped default model (package data in a wheel,
    ``models/default`` in a checkout; see :mod:`inspector.resources`)."""
    env = _env_path(MODEL_ENV)
    if env is not None:
        return env
    from inspector.resources import shipped_model_dir

    return shipped_model_dir()


def config_dir() -> Path:
    """The folder of the GUI's settings file: ``$INSPECTOR_CONFIG_DIR`` or the user config folder."""
    env = _env_path(CONFIG_DIR_ENV)
    if env is not None:
        return env
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
