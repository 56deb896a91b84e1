"""scripts/run and scripts/test share one venv, check Python first and fail in one clear line.

Each test points INSPECTOR_VENV at a throw-away venv whose packages come from the project's
venv (a .pth line), so nothing is downloaded or installed for real.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from inspector import __version__

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="bash scripts")


def make_venv(tmp: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = subprocess.run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def script_env(venv: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, INSPECTOR_VENV=str(venv), PYTHONPATH=str(REPO), **extra)


def mark_installed(env: dict[str, str], extra: str, stale: bool = False) -> None:
    # What _venv.sh writes after a successful install, with its own hash function.
    h = "0" * 64 if stale else "$(source_hash)"
    r = bash(f'source scripts/_venv.sh && echo "{h} {extra}" > "$STAMP"', env)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("installed", ["dev", "train"])
def test_run_uses_a_venv_installed_by_either_script_without_reinstalling(tmp_path, installed):
    venv = make_venv(tmp_path)
    env = script_env(venv)
    mark_installed(env, installed)
    r = subprocess.run(
        [REPO / "scripts" / "run", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"inspector {__version__}"
    assert "[setup]" not in r.stderr  # nothing installed, nothing said


def test_a_changed_pyproject_reinstalls_keeping_dev_and_a_pip_failure_is_one_clear_error(tmp_path):
    venv = make_venv(tmp_path)
    empty = tmp_path / "empty-wheelhouse"
    empty.mkdir()
    env = script_env(venv, INSPECTOR_WHEELHOUSE=str(empty))  # offline: pip fails fast
    mark_installed(env, "dev", stale=True)
    r = subprocess.run(
        [REPO / "scripts" / "run", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 1
    assert "updating plate-inspector[dev]" in r.stderr  # run needs train, but dev is kept
    assert f"offline: installing from the wheelhouse {empty}" in r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        f"[setup] error: pip failed (exit 1); the full log is {venv / 'pip-install.log'}"
    )
    assert "inspector 0." not in r.stdout  # the app did not start on a half-installed venv


def old_python() -> str | None:
    for exe in [shutil.which(f"python3.{m}") for m in (10, 9, 8)] + sorted(
        glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0]*/bin/python3"))
        + glob.glob(os.path.expanduser("~/.pyenv/versions/3.[89]*/bin/python3"))
    ):
        if exe and subprocess.run([exe, "-c", "pass"], capture_output=True).returncode == 0:
            return exe
    return None


@pytest.mark.skipif(old_python() is None, reason="no Python older than 3.11 on this machine")
def test_a_too_old_python_is_refused_before_anything_is_created(tmp_path):
    old = old_python()
    venv = tmp_path / "new-venv"
    env = dict(os.environ, INSPECTOR_VENV=str(venv), PYTHON=str(old))
    r = subprocess.run(
        [REPO / "scripts" / "test"], env=env, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(
        f"[setup] error: Plate Inspector needs Python >= 3.11; found: {old} is Python 3."
    )
    assert "PYTHON=/path/to/python3.11" in lines[0]
    assert not venv.exists()
