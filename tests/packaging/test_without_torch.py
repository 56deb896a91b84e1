"""An install without the [train] extra (or the bundle) says what to install, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2

from tests.conftest import synthetic_plate

REPO = Path(__file__).resolve().parents[2]
# sys.modules[name] = None makes `import name` raise ModuleNotFoundError, as on a machine where
# `pip install plate-inspector` left out torch.
NO_TORCH = (
    "import sys; sys.modules['torch'] = None; from inspector.__main__ import main; "
    "sys.exit(main(sys.argv[1:]))"
)


def _explain_without_torch(tmp_path, *args):
    plate = tmp_path / "plate.png"
    cv2.imwrite(str(plate), synthetic_plate(1, 200, seed=1))
    env = dict(os.environ, PYTHONPATH=str(REPO), INSPECTOR_WORKSPACE=str(tmp_path / "ws"))
    return subprocess.run(
        [
            sys.executable,
            "-c",
            NO_TORCH,
            "explain",
            str(plate),
            "--out",
            str(tmp_path / "h.png"),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_explain_without_torch_names_the_extra_to_install(tmp_path):
    # expected gradients need torch; the default heatmaps (regions, ONNX) do not, see below
    r = _explain_without_torch(tmp_path, "--method", "gradients")
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        "inspector: error: this needs torch: install the training extras, "
        "pip install 'plate-inspector[train]'"
    ]
    assert not (tmp_path / "h.png").exists()


def test_the_default_explanation_runs_without_torch(tmp_path):
    r = _explain_without_torch(tmp_path)  # region SHAP on the shipped ONNX model
    assert r.returncode == 0, r.stderr
    assert r.stderr.startswith("SHAP · regions (Owen values)")
    assert cv2.imread(str(tmp_path / "h.png")) is not None
