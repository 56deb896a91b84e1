"""torchrun --nproc-per-node 2 (gloo on CPU): one version registered, the same data snapshot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from inspector.store import LabelStore
from tests.conftest import REPO
from tests.loop.conftest import tiny_args

pytestmark = pytest.mark.slow


def _run(argv, ws, version):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [*argv, "-m", "inspector.training", *tiny_args(ws, "--version", version)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


def test_two_cpu_processes_register_the_version_once_with_the_single_process_snapshot(
    workspace, tmp_path
):
    ws, _ = workspace
    single_ws = tmp_path / "ws-single"
    shutil.copytree(ws, single_ws)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    ddp = _run([*torchrun, "--nproc-per-node", "2"], ws, "ddp")
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    events = [json.loads(x) for x in ddp.stdout.splitlines() if x.startswith("{")]
    kinds = [e["event"] for e in events]
    assert kinds.count("started") == 1 and kinds.count("done") == 1  # rank 0 speaks alone
    with LabelStore.open(ws) as store:
        assert [m.name for m in store.model_versions()].count("ddp") == 1
        assert [r["status"] for r in store.training_runs()] == ["done"]
        ddp_hash = store.model_version("ddp").metrics["snapshot_hash"]

    one = _run([sys.executable], single_ws, "single")
    assert one.returncode == 0, one.stderr[-3000:]
    with LabelStore.open(single_ws) as store:
        assert store.model_version("single").metrics["snapshot_hash"] == ddp_hash
