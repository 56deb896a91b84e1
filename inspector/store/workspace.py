"""Where a workspace lives: a folder holding ``inspector.db`` (and, later, caches).

Resolution order: an explicit path, then the ``INSPECTOR_WORKSPACE`` environment variable, then
the per-user data folder (``platformdirs.user_data_dir("plate-inspector")``).

>>> resolve_workspace("/data/line3")
PosixPath('/data/line3')
>>> database_path("/data/line3")
PosixPath('/data/line3/inspector.db')
"""

from __future__ import annotations

# The layout and the environment variable live in inspector.paths (one place for the CLI, the GUI
# and the store); these names stay importable from here.
from inspector.paths import DB_NAME, database_path, default_workspace, resolve_workspace
from inspector.paths import WORKSPACE_ENV as ENV_VAR

__all__ = ["DB_NAME", "ENV_VAR", "database_path", "default_workspace", "resolve_workspace"]
