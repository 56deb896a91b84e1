"""The GPU side of :class:`~inspector.runtime.ort.OrtPredictor`: is CUDA possible here, the
float16 graph it runs, and an IO-bound ``run``.

* :func:`driver_found` — onnxruntime-gpu lists CUDA as available even without an NVIDIA driver,
  so the driver library is looked for first (one place, so tests can stand in for it).
* :func:`float16_graph` — the card's float32 graph converted to float16 in memory at load time
  (``keep_io_types``: the input and outputs stay float32, so every caller is unchanged). Nothing
  is written to disk: the bytes go straight to ``InferenceSession``. Tensor cores run float16;
  the logits move by ~0.06 at most on the shipped model (measured on the CPU provider).
* :class:`IoBoundSession` — ``session.run`` through an IO binding: the batch is copied to the
  GPU once per run and the (small, float32) outputs are written straight into host memory
  that ORT allocates, skipping the Python-side feed checks and an extra output copy. It has the
  session's ``run`` signature, so a caller asking for one output or two works unchanged.
"""

from __future__ import annotations

import ctypes.util
import os
from collections.abc import Sequence

import numpy as np


def driver_found() -> bool:
    """Whether the NVIDIA driver library (libcuda) can be found on this machine."""
    return ctypes.util.find_library("cuda") is not None


def float16_graph(onnx_path: str | os.PathLike[str]) -> tuple[bytes | None, str]:
    """(the float16 model's bytes, "") or (None, why the float32 graph is used instead)."""
    try:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16
    except ImportError as exc:
        return None, f"float16 conversion unavailable ({exc.name} not installed)"
    try:
        model = convert_float_to_float16(onnx.load(str(onnx_path)), keep_io_types=True)
        return model.SerializeToString(), ""
    except Exception as exc:  # the converter raises plain Exceptions for unsupported graphs
        return None, f"float16 conversion failed ({type(exc).__name__}: {str(exc)[:120]})"


class IoBoundSession:
    """An ``InferenceSession`` whose ``run`` goes through an IO binding on the CUDA device."""

    def __init__(self, session) -> None:
        self._session = session

    def __getattr__(self, name: str):  # get_inputs, get_outputs, get_providers, ...
        return getattr(self._session, name)

    def run(self, output_names: Sequence[str] | None, feeds: dict, run_options=None) -> list:
        names = list(output_names or [o.name for o in self._session.get_outputs()])
        binding = self._session.io_binding()
        for name, value in feeds.items():
            binding.bind_cpu_input(name, np.ascontiguousarray(value))
        for name in names:
            # host memory, allocated by ORT at the run's shape (the batch varies): the outputs
            # are a few floats per image, and the caller wants numpy anyway
            binding.bind_output(name)
        self._session.run_with_iobinding(binding, run_options)
        return binding.copy_outputs_to_cpu()
