"""Crash safety with real processes: SIGKILL a writer at random moments; read while it writes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inspector.store import LabelStore

CHILD = Path(__file__).with_name("writer_child.py")
N_IMAGES = 50
ROUNDS = 50

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def start_writer(ws: Path, seed: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(ws), str(N_IMAGES), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def read_lines(proc: subprocess.Popen, out: list[str]) -> threading.Thread:
    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            out.append(line.strip())

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    return t


@pytest.fixture()
def populated(ws: Path) -> Path:
    with LabelStore.open(ws) as s:
        for i in range(N_IMAGES):
            s.add_image(f"/plates/{i}.bmp", missing=True)
    return ws


@pytest.mark.slow
def test_every_acknowledged_label_survives_sigkill(populated: Path):
    rng = random.Random(1234)
    acknowledged: set[int] = set()
    for round_ in range(ROUNDS):
        proc = start_writer(populated, seed=round_)
        lines: list[str] = []
        pump = read_lines(proc, lines)
        # Kill at a random moment: sometimes before the first write, mostly mid-stream.
        deadline = time.monotonic() + 5
        while "ready" not in lines and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.005)
        assert "ready" in lines, proc.stderr.read() if proc.poll() is not None else "no ready"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pump.join(timeout=5)
        acknowledged.update(int(x) for x in lines if x.isdigit())
    assert len(acknowledged) > ROUNDS  # the writer really wrote between kills
    with LabelStore.open(populated) as s:
        assert s.check().integrity == "ok"
        present = {r[0] for r in s._conn.execute("SELECT id FROM label_events")}
        assert acknowledged <= present
        # The denormalised current label always matches the last event of each image.
        stale = s._conn.execute(
            "SELECT count(*) FROM current_labels c WHERE c.event_id IS NOT"
            " (SELECT max(id) FROM label_events e WHERE e.image_id = c.image_id)"
        ).fetchone()[0]
        assert stale == 0


READER = """
import sys, json, time
from inspector.store import LabelStore
store = LabelStore.open(sys.argv[1], read_only=True)
first, deadline = None, time.monotonic() + 20
for i in range(10**6):
    if i >= int(sys.argv[2]) and (first is None or n1 > first or time.monotonic() > deadline):
        break  # enough snapshots, and the writer was seen writing (a busy machine may starve it)
    with store.snapshot():
        conn = store._conn
        n1 = conn.execute("SELECT count(*) FROM label_events").fetchone()[0]
        labelled = len(store.training_snapshot(include_missing=True))
        stale = conn.execute(
            "SELECT count(*) FROM current_labels c WHERE c.event_id IS NOT"
            " (SELECT max(id) FROM label_events e WHERE e.image_id = c.image_id)").fetchone()[0]
        n2 = conn.execute("SELECT count(*) FROM label_events").fetchone()[0]
    first = n1 if first is None else first
    print(json.dumps([n1, n2, stale, labelled]), flush=True)
    time.sleep(0.01)  # spread the snapshots over time, so a busy machine's writer gets a turn
"""


@pytest.mark.slow
def test_a_reader_process_sees_consistent_snapshots_while_a_writer_writes(populated: Path):
    writer = start_writer(populated, seed=99)
    lines: list[str] = []
    pump = read_lines(writer, lines)
    try:
        while "ready" not in lines:
            time.sleep(0.01)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        reader = subprocess.run(
            [sys.executable, "-c", READER, str(populated), "40"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        pump.join(timeout=5)
    assert reader.returncode == 0, reader.stderr
    import json

    snaps = [json.loads(x) for x in reader.stdout.splitlines()]
    assert len(snaps) >= 40
    for n1, n2, stale, _ in snaps:
        assert n1 == n2 and stale == 0  # nothing changed inside a snapshot, nothing half-done
    counts = [s[0] for s in snaps]
    assert counts == sorted(counts) and counts[-1] > counts[0]  # the writer really was writing
