"""The CUDA path of OrtPredictor without a GPU: only the provider list is stood in for.

CI has no GPU, so ``get_available_providers``, the driver check and the providers a session
reports are replaced; everything else is real (the float16 conversion, the session, which runs
the float16 graph on the CPU provider here, and the IO binding). The status text and
``inspector bench`` must say which provider ran and why another was not used.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest

from inspector.__main__ import main
from inspector.domain import ModelError
from inspector.paths import default_model_dir
from inspector.runtime import cuda
from inspector.runtime.ort import CPU, CUDA, OrtPredictor

RealSession = ort.InferenceSession


def _pretend(monkeypatch, *, driver: bool = True, cuda_starts: bool = True) -> list[dict]:
    """A machine whose onnxruntime-gpu lists CUDA; sessions asked for CUDA claim to have it
    (``cuda_starts``) or fall back to the CPU the way ORT does. Returns what sessions were made."""
    made: list[dict] = []

    class Session(RealSession):
        def __init__(self, model, sess_options=None, providers=None, **kw):
            self._asked = list(providers or [CPU])
            made.append({"model": model, "providers": self._asked})
            super().__init__(model, sess_options, providers=[CPU], **kw)

        def get_providers(self):
            return [CUDA, CPU] if cuda_starts and CUDA in self._asked else [CPU]

    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "preload_dlls", lambda *a, **k: None, raising=False)
    monkeypatch.setattr(ort, "InferenceSession", Session)
    monkeypatch.setattr(cuda, "driver_found", lambda: driver)
    return made


def _batch(pred: OrtPredictor) -> np.ndarray:
    rng = np.random.default_rng(0)
    gray = rng.normal(128, 25, (4, 200, 200)).clip(0, 255).astype(np.uint8)
    return np.stack([pred.card.preprocessing.apply(g) for g in gray])


def test_cuda_runs_the_float16_graph_from_memory_with_io_binding(monkeypatch, tmp_path):
    model = default_model_dir()
    before = sorted(p.name for p in model.iterdir())
    reference = OrtPredictor(model, device="cpu")
    made = _pretend(monkeypatch)
    pred = OrtPredictor(model, device="cuda")
    assert pred.device == "CUDA" and pred.precision == "float16"
    assert pred.providers[0] == CUDA
    assert pred.device_reason == "CUDA GPU in use (float16 graph, IO binding)"
    assert isinstance(pred._session, cuda.IoBoundSession)
    assert isinstance(made[0]["model"], bytes) and made[0]["providers"] == [CUDA, CPU]
    assert sorted(p.name for p in model.iterdir()) == before  # nothing written anywhere
    x = _batch(reference)
    p16, p32 = pred.predict_batch(x), reference.predict_batch(x)
    assert p16.dtype == np.float32 and p16.shape == p32.shape  # keep_io_types: float32 out
    assert np.abs(p16 - p32).max() < 0.02  # float16 rounding, not another model
    assert (np.argmax(p16, 1) == np.argmax(p32, 1)).all()


def test_auto_on_a_machine_without_the_driver_says_so(monkeypatch):
    made = _pretend(monkeypatch, driver=False)
    pred = OrtPredictor(default_model_dir())
    assert (pred.device, pred.precision) == ("CPU", "float32")
    assert pred.device_reason == "no NVIDIA GPU driver found (libcuda missing)"
    assert made[0]["providers"] == [CPU]  # CUDA never asked for: no cuDNN loaded for nothing
    with pytest.raises(ModelError, match=r"CUDA was requested.*no NVIDIA GPU driver"):
        OrtPredictor(default_model_dir(), device="cuda")


def test_an_ort_fallback_to_cpu_runs_the_float32_graph_and_says_why(monkeypatch):
    made = _pretend(monkeypatch, cuda_starts=False)
    pred = OrtPredictor(default_model_dir())
    assert (pred.device, pred.precision) == ("CPU", "float32")
    assert pred.device_reason.startswith("CUDA could not start")
    # the float16 graph was tried on CUDA, then the card's float32 file opened on the CPU
    assert isinstance(made[0]["model"], bytes) and made[-1]["model"].endswith("model.onnx")
    assert made[-1]["providers"] == [CPU]
    assert not isinstance(pred._session, cuda.IoBoundSession)


def test_a_build_without_cuda_says_so(monkeypatch):
    _pretend(monkeypatch)
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CPU])
    pred = OrtPredictor(default_model_dir())
    assert (
        pred.device_reason == "this onnxruntime build has no CUDA support (install onnxruntime-gpu)"
    )


def test_bench_names_the_provider_that_ran(monkeypatch, capsys):
    _pretend(monkeypatch)
    args = ["bench", "--device", "cuda", "--repeats", "3", "--no-torch", "--folder-images", "16"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "on CUDA (CUDA GPU in use (float16 graph, IO binding))" in out
    assert "| execution provider | CUDAExecutionProvider (float16) |" in out


def test_bench_on_cpu_says_why_not_cuda(monkeypatch, capsys):
    _pretend(monkeypatch, driver=False)
    args = ["bench", "--repeats", "3", "--no-torch", "--folder-images", "16"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "on CPU (no NVIDIA GPU driver found (libcuda missing))" in out
    assert "| execution provider | CPUExecutionProvider (float32) |" in out


def test_bench_device_cuda_without_a_gpu_is_one_line_not_a_traceback():
    if OrtPredictor(default_model_dir()).device == "CUDA":
        pytest.skip("this machine has a working CUDA GPU")
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "bench", "--device", "cuda", "--no-torch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "CUDA was requested but is not usable" in lines[0], r.stderr
