"""One workspace layout: the store, the explanation cache and the logs agree on where they live."""

from __future__ import annotations

from inspector import paths
from inspector.registry import default_model_dir
from inspector.store.workspace import database_path


def test_the_environment_moves_the_whole_workspace_and_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("INSPECTOR_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.setenv("INSPECTOR_MODEL", str(tmp_path / "model"))
    assert database_path() == tmp_path / "ws" / "inspector.db"
    assert paths.explanations_dir() == tmp_path / "ws" / "explanations"
    assert paths.log_file() == tmp_path / "ws" / "logs" / "inspector.log"
    assert default_model_dir() == tmp_path / "model"


def test_without_the_environment_the_shipped_model_and_a_user_folder_are_used(monkeypatch):
    monkeypatch.delenv("INSPECTOR_WORKSPACE", raising=False)
    monkeypatch.delenv("INSPECTOR_MODEL", raising=False)
    assert (paths.default_model_dir() / "card.json").is_file()
    assert "plate-inspector" in str(paths.default_workspace())
