"""Workspaces that are half-made, empty, corrupt or on a full disk: never written into, never
reported healthy, always one clear line (issue 14, items 1, 3 and 11)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.domain import NEU_CLASSES
from inspector.store import LabelStore, NotADatabaseError, StoreError
from inspector.store.importers import import_paths
from inspector.store.migrations import migrate

REPO = Path(__file__).resolve().parents[2]


def run_py(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


# A child that SIGKILLs itself the moment the first default class is about to be written: the
# state a power cut between "schema created" and "classes added" leaves behind.
KILL_AT_FIRST_CLASS = """
import os, signal, sqlite3, sys
_connect = sqlite3.connect
def connect(*a, **kw):
    conn = _connect(*a, **kw)
    def trace(sql):
        if sql.lstrip().upper().startswith("INSERT INTO CLASSES"):
            os.kill(os.getpid(), signal.SIGKILL)
    conn.set_trace_callback(trace)
    return conn
sqlite3.connect = connect
from inspector.store import LabelStore
LabelStore.open(sys.argv[1])
print("survived")
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_a_creation_killed_before_the_classes_leaves_a_usable_workspace(ws, make_imagefolder):
    child = run_py(KILL_AT_FIRST_CLASS, str(ws))
    assert child.returncode == -signal.SIGKILL, child.stderr
    with LabelStore.open(ws) as s:
        assert s.classes() == list(NEU_CLASSES)
        report = import_paths(s, [make_imagefolder(per_class=1)], user="ana")
        assert report.labels_written == 3
    leftovers = sorted(p.name for p in ws.iterdir() if not p.name.startswith("inspector.db"))
    assert leftovers == []


def test_a_workspace_an_older_version_left_without_classes_gets_them(ws):
    ws.mkdir()
    conn = sqlite3.connect(ws / "inspector.db", isolation_level=None)
    migrate(conn, ws / "inspector.db")  # schema committed, classes never added
    conn.close()
    with LabelStore.open(ws) as s:
        assert s.classes() == list(NEU_CLASSES)
    with LabelStore.open(ws) as s:  # and only once
        assert s.classes() == list(NEU_CLASSES)


def test_an_empty_database_file_is_refused_not_recreated(ws):
    ws.mkdir()
    db = ws / "inspector.db"
    db.write_bytes(b"")
    with pytest.raises(NotADatabaseError, match=r"empty \(0 bytes\).*backup"):
        LabelStore.open(ws)
    assert db.stat().st_size == 0
    assert sorted(p.name for p in ws.iterdir()) == ["inspector.db"]
    check = cli("db", "check", "--workspace", str(ws))
    assert check.returncode != 0 and "ok" not in check.stdout
    assert check.stderr.count("\n") == 1 and "empty" in check.stderr


def corrupt_an_index(db: Path) -> None:
    """Point an index at another table's pages: SQLite still opens it, integrity_check fails."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute(
        "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master"
        " WHERE name = 'label_events') WHERE name = 'images_sha256'"
    )
    conn.commit()
    conn.close()


def test_a_corrupt_database_is_never_written_to(ws):
    with LabelStore.open(ws) as s:
        img = s.add_image("a.bmp")
        s.set_labels(img, ["crazing"], user="ana")
    corrupt_an_index(ws / "inspector.db")
    before = (ws / "inspector.db").read_bytes()
    with pytest.raises(StoreError, match=r"integrity check.*backup"):
        LabelStore.open(ws)
    assert (ws / "inspector.db").read_bytes() == before
    # Reading it (to rescue what can be rescued) still works, read-only.
    with LabelStore.open(ws, read_only=True) as s:
        assert s.labels("a.bmp") == ("crazing",)
        assert not s.check().ok
    check = cli("db", "check", "--workspace", str(ws))
    assert check.returncode == 1 and "integrity: ok" not in check.stdout


def test_a_database_with_garbled_event_pages_is_never_written_to(ws):
    with LabelStore.open(ws) as s:
        for i in range(300):  # enough events for label_events to span several pages
            s.set_labels(s.add_image(f"/p/{i}.bmp"), ["crazing"], user="ana", reason="x" * 50)
    db = ws / "inspector.db"
    conn = sqlite3.connect(db)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'label_events'").fetchone()
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with db.open("r+b") as f:  # scribble over the events table's root page header
        f.seek((root[0] - 1) * page_size)
        f.write(b"\xff" * 64)
    before = db.read_bytes()
    with pytest.raises(StoreError, match=r"integrity check.*restore it from a backup"):
        LabelStore.open(ws)
    assert db.read_bytes() == before


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails like a full disk
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from inspector.__main__ import main
sys.exit(main(["db", "check", "--workspace", sys.argv[1]] if len(sys.argv) > 3 else
              ["import", sys.argv[1] + "-empty", "--workspace", sys.argv[1]]))
"""


@pytest.mark.parametrize("limit", [20_000, 60_000, 150_000])
def test_a_full_disk_while_creating_says_so_and_leaves_no_half_workspace(ws, tmp_path, limit):
    (tmp_path / "ws-empty").mkdir()
    child = run_py(FULL_DISK, str(ws), str(limit))
    assert child.returncode == 2, child.stderr
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and "disk" in lines[0] and "full" in lines[0], lines
    assert "cannot rollback" not in lines[0]
    with LabelStore.open(ws) as s:  # with room again, the workspace is whole
        assert s.classes() == list(NEU_CLASSES) and s.check().ok


def test_db_check_into_a_closed_pipe_prints_no_traceback(ws):
    LabelStore.open(ws).close()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "db", "check", "--workspace", str(ws)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.close()  # like `| head -0`: the reader is gone before the first line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141  # 128 + SIGPIPE, as a shell reports a reader gone early


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="running as root (or not on POSIX): no folder permission stops root from writing",
)
def test_check_backup_and_export_work_on_a_read_only_folder(make_imagefolder, tmp_path):
    top = tmp_path / "ro"
    try:
        ws = top / "ws"
        with LabelStore.open(ws) as s:
            import_paths(s, [make_imagefolder(per_class=1)], user="ana")
        out = top / "out"
        out.mkdir()
        ws.chmod(0o555)
        check = cli("db", "check", "--workspace", str(ws))
        assert check.returncode == 0 and "integrity: ok" in check.stdout, check.stderr
        backup = cli("db", "backup", "--workspace", str(ws), "--out", str(out / "b.db"))
        assert backup.returncode == 0, backup.stderr
        export = cli(
            "export",
            "data",
            "--workspace",
            str(ws),
            "--format",
            "csv",
            "--out",
            str(out / "labels.csv"),
        )
        assert export.returncode == 0, export.stderr
        assert len((out / "labels.csv").read_text().splitlines()) == 4
        assert sorted(p.name for p in ws.iterdir()) == ["inspector.db"]  # nothing written there
    finally:
        ws.chmod(0o755)
