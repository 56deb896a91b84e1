"""The app finds its shipped files from a checkout, and its smoke test says when one is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from inspector.registry import default_model_dir
from inspector.resources import resource_path, shipped_model_dir

REPO = Path(__file__).resolve().parents[2]


def test_a_checkout_reads_the_top_level_models_and_resources(monkeypatch):
    monkeypatch.delenv("INSPECTOR_MODEL", raising=False)
    assert shipped_model_dir() == REPO / "models" / "default"
    assert default_model_dir() == shipped_model_dir()
    assert resource_path("style.qss") == REPO / "resources" / "style.qss"
    assert resource_path("style.qss").is_file()


def test_smoke_test_fails_with_one_line_when_the_model_is_missing(tmp_path):
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        QT_QPA_PLATFORM="offscreen",
        INSPECTOR_MODEL=str(tmp_path / "no-such-model"),
        INSPECTOR_CONFIG_DIR=str(tmp_path / "config"),
    )
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "--smoke-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert "window shown" in r.stdout
    assert f"smoke test failed: no model: {tmp_path / 'no-such-model'}" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "config").exists()  # the user's settings are never written
