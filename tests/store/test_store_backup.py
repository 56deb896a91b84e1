"""`inspector db backup` while another process writes steadily, and when it is interrupted
(issue 14, item 6). Real processes: a writer at 20 label writes per second, the CLI as a child."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector.store import LabelStore

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="needs POSIX signals")

WRITER = """
import sys, time
from inspector.store import LabelStore
store = LabelStore.open(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    store.set_labels(1 + i % 50, ["crazing"] if i % 2 else ["patches"], user="writer")
    i += 1
    time.sleep(0.05)  # about 20 durable writes per second
"""


def filled(ws: Path, rows: int) -> Path:
    """A workspace of about ``rows * 4`` kB (50 labelled-to-be images plus filler rows)."""
    with LabelStore.open(ws) as s:
        for i in range(50):
            s.add_image(f"/plates/{i}.bmp", missing=True)
    conn = sqlite3.connect(ws / "inspector.db", isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO images (path, added_at, source, missing) VALUES (?, 'then', ?, 1)",
        ((f"/bulk/{i}.bmp", "x" * 4000) for i in range(rows)),
    )
    conn.execute("COMMIT")
    conn.close()
    return ws


def start_writer(ws: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ws)], stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def backup_cli(ws: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "inspector", "db", "backup", "--workspace", str(ws), "--out", out],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "part" in p.name)


@pytest.mark.slow
def test_backup_finishes_while_another_process_writes_20_times_a_second(ws, tmp_path):
    # 170 MB: the online backup API copies 16 MB per step and restarts after any other
    # process's write, so at 20 writes/s it never got to the end of a copy this size.
    big_ws = filled(ws, 40_000)
    writer = start_writer(big_ws)
    try:
        time.sleep(0.3)
        out = tmp_path / "backups" / "copy.db"
        proc = backup_cli(big_ws, out)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the backup did not finish in 30 s while a writer was writing")
        assert proc.returncode == 0, err
    finally:
        writer.kill()
        writer.wait()
    assert leftovers(out.parent) == []
    with LabelStore.open(out, read_only=True) as copy:
        assert copy.check().ok
        assert copy.counts()["images"] == 40_050
        assert copy.counts()["label events"] > 0


@pytest.mark.slow
def test_an_interrupted_backup_leaves_no_part_file(ws, tmp_path):
    big_ws = filled(ws, 10_000)
    writer = start_writer(big_ws)
    try:
        out = tmp_path / "backups" / "copy.db"
        out.parent.mkdir()
        proc = backup_cli(big_ws, out)
        deadline = time.monotonic() + 30
        while not leftovers(out.parent) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as soon as the copy has started
        _, err = proc.communicate(timeout=60)
    finally:
        writer.kill()
        writer.wait()
    assert leftovers(out.parent) == [], err
    if proc.returncode == 0:  # it finished before the signal arrived: then it is complete
        with LabelStore.open(out, read_only=True) as copy:
            assert copy.check().ok
    else:
        assert not out.exists() and "Traceback" not in err


FSIZE_LIMITED_BACKUP = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))
from inspector.__main__ import main
sys.exit(main(["db", "backup", "--workspace", sys.argv[1], "--out", sys.argv[2]]))
"""


def test_a_backup_that_runs_out_of_space_says_so_and_leaves_nothing(ws, tmp_path):
    big_ws = filled(ws, 2_000)
    out = tmp_path / "backups" / "copy.db"
    child = subprocess.run(
        [sys.executable, "-c", FSIZE_LIMITED_BACKUP, str(big_ws), str(out)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert child.returncode == 2
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and "disk" in lines[0], lines
    assert not out.exists() and leftovers(out.parent) == []
