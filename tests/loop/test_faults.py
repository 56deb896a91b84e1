"""Killing the training process (a real child, SIGKILL) leaves the workspace as it was."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from inspector.store import LabelStore
from tests.conftest import REPO
from tests.loop.conftest import tiny_args


def _state(ws):
    with LabelStore.open(ws) as store:
        models = sorted((m.name, str(m.status)) for m in store.model_versions())
        active = store.active_model().name
        labels = store.class_counts()
    visible = sorted(p.name for p in (ws / "models").iterdir()) if (ws / "models").is_dir() else []
    return models, active, labels, [n for n in visible if not n.startswith(".")]


def _start(ws, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "inspector.training", *tiny_args(ws, "--epochs", "30", *extra)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def _wait_for(proc, kind):
    for line in proc.stdout:
        if json.loads(line)["event"] == kind:
            return
    pytest.fail(f"no {kind!r} event; stderr: {proc.stderr.read()[-2000:]}")


@pytest.mark.parametrize("moment", ["snapshot", "started", "epoch"])
def test_kill_9_leaves_store_registry_and_active_model_and_the_next_run_works(workspace, moment):
    ws, _ = workspace
    before = _state(ws)
    proc = _start(ws, "--version", "killed")
    _wait_for(proc, moment)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert _state(ws) == before
    with LabelStore.open(ws) as store:
        assert store.training_runs()[-1]["status"] == "running"  # nobody could say otherwise

    # The next run marks the dead one failed and goes on to register its candidate.
    again = subprocess.run(
        [sys.executable, "-m", "inspector.training", *tiny_args(ws, "--version", "v2")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        cwd=REPO,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.splitlines()[-1])["event"] == "done"
    with LabelStore.open(ws) as store:
        runs = store.training_runs()
        assert [r["status"] for r in runs] == ["failed", "done"]
        assert "killed" in runs[0]["metrics"]["reason"]
        assert store.model_version("v2").status == "candidate"
        assert "killed" not in {m.name for m in store.model_versions()}


def test_sigterm_cancels_between_batches_and_registers_nothing(workspace):
    ws, _ = workspace
    before = _state(ws)
    proc = _start(ws, "--version", "cancelled")
    _wait_for(proc, "started")
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert json.loads(out.splitlines()[-1]) == {
        "event": "error",
        "message": "cancelled",
        "type": "Cancelled",
    }
    assert _state(ws) == before
    with LabelStore.open(ws) as store:
        assert store.training_runs()[-1]["status"] == "cancelled"


@pytest.mark.parametrize("damage", ["truncated weights", "card classes do not match"])
def test_a_broken_parent_is_one_line_and_changes_nothing(workspace, damage):
    ws, parent = workspace
    if damage == "truncated weights":
        w = parent / "weights.safetensors"
        w.write_bytes(w.read_bytes()[:1000])
    else:
        card = json.loads((parent / "card.json").read_text())
        card["classes"].append("rust")
        card["thresholds"].append(0.5)
        (parent / "card.json").write_text(json.dumps(card))
    before = _state(ws)
    proc = _start(ws)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.count("\n") == 1 and err.startswith("inspector train: error: ")
    assert json.loads(out.splitlines()[-1])["event"] == "error"
    assert _state(ws) == before
    with LabelStore.open(ws) as store:
        assert store.training_runs() == [] and store.evaluation_set() == {}
