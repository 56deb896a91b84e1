"""Store fixtures: every test gets its own workspace in tmp_path, and the default workspace is
redirected there too, so no test can touch the real per-user data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.store import LabelStore


@pytest.fixture(autouse=True)
def _no_user_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSPECTOR_WORKSPACE", str(tmp_path / "default-workspace"))


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture()
def store(ws: Path):
    s = LabelStore.open(ws)
    yield s
    s.close()
