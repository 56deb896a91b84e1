"""Inference with ONNX Runtime: CUDA when it really works, the CPU otherwise, and say which.

>>> from inspector.paths import default_model_dir
>>> pred = OrtPredictor(default_model_dir(), device="cpu")
>>> spec = pred.card.preprocessing
>>> probs = pred.predict_batch(np.zeros((2, spec.channels, spec.size, spec.size), np.float32))
>>> probs.shape == (2, len(pred.classes)), pred.device      # per-class sigmoid probabilities
(True, 'CPU')

On a machine without a usable GPU, ``pred.device_reason`` says why (for example "no NVIDIA GPU
driver found (libcuda.so.1 missing)"); the GUI shows it in the status bar.

onnxruntime-gpu lists CUDA as *available* on machines without a GPU and, when asked for it,
prints an error to stderr and silently runs on the CPU. So the predictor asks explicitly, reads
``session.get_providers()`` to learn what it really got, and keeps ORT's own output off the
user's console (it is captured and turned into the one-line reason shown in the status bar).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from inspector.domain import ImageLoadError, ModelError, Prediction, PredictionError
from inspector.imageio import load_image
from inspector.metrics import sigmoid
from inspector.registry import ONNX_FILE, ModelCard, check_model_dir
from inspector.runtime.export import INPUT_NAME, OUTPUT_NAME
from inspector.runtime.graph import check_graph

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@contextlib.contextmanager
def _capture_stderr() -> Iterator[list[str]]:
    """Redirect the process's fd 2 (where ORT's C++ logger writes) into a list of lines."""
    lines: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = os.dup(2)
        try:
            os.dup2(tmp.fileno(), 2)
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


def _cuda_unavailable_reason(ort_module, captured: Sequence[str]) -> str:
    if CUDA not in ort_module.get_available_providers():
        return "this onnxruntime build has no CUDA support (install onnxruntime-gpu)"
    if ctypes.util.find_library("cuda") is None:
        return "no NVIDIA GPU driver found (libcuda missing)"
    errors = [ln for ln in captured if "error" in ln.lower() or "[E:" in ln]
    if errors:
        msg = errors[0].split("]")[-1].strip()
        return f"CUDA could not start: {msg[:200]}"
    return "CUDA could not start (no details from ONNX Runtime)"


_NAN_REASON = (
    "the model returned NaN or infinite scores for this image; its model files may be corrupt "
    "(re-export or reinstall the model)"
)


class OrtPredictor:
    """One ONNX Runtime session for one model version; thread-safe ``run`` as ORT guarantees."""

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        self.model_dir = Path(model_dir)
        self.card: ModelCard = check_model_dir(self.model_dir)
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1

        device = device.lower()
        if device not in ("auto", "cuda", "cpu"):
            raise ValueError(f"device must be auto, cuda or cpu, not {device!r}")
        # onnxruntime-gpu lists CUDA even where no NVIDIA driver exists; asking for it there loads
        # cuDNN/cuBLAS (hundreds of MB, the GIL held for ~50 ms: a stall in the window) only to fall
        # back to the CPU. Without the driver, CUDA cannot work: go straight to the CPU.
        has_driver = ctypes.util.find_library("cuda") is not None
        want_cuda = device != "cpu" and CUDA in ort.get_available_providers() and has_driver
        providers = [CUDA, CPU] if want_cuda else [CPU]
        captured: list[str] = []
        try:
            with _capture_stderr() as captured:
                if want_cuda and hasattr(ort, "preload_dlls"):
                    with contextlib.suppress(Exception):
                        ort.preload_dlls()  # finds cuDNN/cuBLAS from the nvidia-* wheels torch uses
                self._session = ort.InferenceSession(
                    str(self.model_dir / ONNX_FILE), opts, providers=providers
                )
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise ModelError(
                f"{self.model_dir / ONNX_FILE}: ONNX Runtime cannot load it: {exc}"
            ) from None
        self.providers: list[str] = list(self._session.get_providers())
        self.device = "CUDA" if CUDA in self.providers else "CPU"
        if self.device == "CUDA":
            self.device_reason = "CUDA GPU in use"
        elif device == "cpu":
            self.device_reason = "CPU requested"
        else:
            self.device_reason = _cuda_unavailable_reason(ort, captured)
        if device == "cuda" and self.device != "CUDA":
            raise ModelError(f"CUDA was requested but is not usable: {self.device_reason}")
        check_graph(self._session, self.card, self.model_dir)

    # -- properties the GUI and CLI show -------------------------------------------------------
    @property
    def classes(self) -> tuple[str, ...]:
        return self.card.classes

    @property
    def thresholds(self) -> tuple[float, ...]:
        return self.card.thresholds

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def unfamiliar_threshold(self) -> float | None:
        """The score above which a plate is unfamiliar; None when the model has no such score."""
        return float(self.card.unfamiliar["threshold"]) if self.card.unfamiliar else None

    # -- inference -----------------------------------------------------------------------------
    def scores(self, x: np.ndarray, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, C, H, W) float32 batch -> ((N, n_classes) logits, (N,) unfamiliar scores or None).

        Both come from the same ONNX run; the scores are None for a model without them.
        """
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim == 3:
            x = x[None]
        extra = self.card.unfamiliar.get("output") if self.card.unfamiliar else None
        names = [OUTPUT_NAME] if extra is None else [OUTPUT_NAME, extra]
        outs = [
            self._session.run(names, {INPUT_NAME: x[i : i + batch_size]})
            for i in range(0, len(x), batch_size)
        ]
        if not outs:
            empty = np.zeros(0, np.float32) if extra else None
            return np.zeros((0, len(self.classes)), np.float32), empty
        logits = np.concatenate([o[0] for o in outs])
        return logits, (np.concatenate([o[1] for o in outs]) if extra else None)

    def logits(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """(N, C, H, W) float32 preprocessed batch -> (N, n_classes) logits."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim == 3:
            x = x[None]
        outs = [
            self._session.run([OUTPUT_NAME], {INPUT_NAME: x[i : i + batch_size]})[0]
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(outs) if outs else np.zeros((0, len(self.classes)), np.float32)

    def predict_batch(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """(N, C, H, W) float32 preprocessed batch -> (N, n_classes) sigmoid probabilities."""
        return sigmoid(self.logits(x, batch_size))

    def prediction(
        self, path: str, probabilities: np.ndarray, unfamiliar: float | None = None
    ) -> Prediction:
        """A :class:`Prediction`; ``unfamiliar`` is kept only when the card has its threshold."""
        threshold = self.unfamiliar_threshold
        return Prediction(
            path=str(path),
            classes=self.classes,
            probabilities=tuple(float(p) for p in probabilities),
            thresholds=self.thresholds,
            model_version=self.version,
            unfamiliar=None if threshold is None or unfamiliar is None else float(unfamiliar),
            unfamiliar_threshold=threshold,
        )

    def predict_paths(
        self, paths: Iterable[str | os.PathLike[str]], batch_size: int = 32
    ) -> Iterator[Prediction | ImageLoadError]:
        """Decode and score files in batches; a bad file yields its error and the rest continue.

        A file the model scores as NaN or infinite yields a :class:`PredictionError`; a NaN
        unfamiliar score (with finite logits) yields a Prediction that reads as unfamiliar.
        """
        spec = self.card.preprocessing
        pending: list[tuple[str, np.ndarray]] = []

        def flush() -> Iterator[Prediction | PredictionError]:
            logits, unfamiliar = self.scores(np.stack([x for _, x in pending]))
            finite = np.isfinite(logits).all(axis=1)
            extra = [None] * len(pending) if unfamiliar is None else unfamiliar.tolist()
            for (p, _), z, u, ok in zip(pending, logits, extra, finite, strict=True):
                # NaN compares false with every threshold: it would read as "no defect".
                yield self.prediction(p, sigmoid(z), u) if ok else PredictionError(p, _NAN_REASON)
            pending.clear()

        for path in paths:
            try:
                pending.append((str(path), spec.apply(load_image(path))))
            except ImageLoadError as exc:
                yield exc
                continue
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()
