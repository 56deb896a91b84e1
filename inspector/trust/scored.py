"""The exported two-output module: ``(logits, unfamiliar score)`` from one forward pass."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from inspector.domain import ModelError
from inspector.trust.unfamiliar import UnfamiliarStats


def default_stages(n_intermediates: int) -> int:
    """Every stage but the last: the last is nearly the penultimate features, which measured
    worse (they carry class identity, not what the steel and the camera look like)."""
    return max(1, n_intermediates - 1)


def features_and_logits(
    model: torch.nn.Module, x: torch.Tensor, stages: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(early-stage channel means (N, D), logits (N, K)) from one forward pass.

    ``stages=0`` picks :func:`default_stages`. The logits equal ``model(x)``.
    """
    if not hasattr(model, "forward_intermediates"):
        raise ModelError(f"{type(model).__name__} has no forward_intermediates (timm >= 1.0)")
    final, inter = model.forward_intermediates(x, intermediates_only=False)
    n = stages or default_stages(len(inter))
    feats = torch.cat([a.mean(dim=(2, 3)) for a in inter[:n]], dim=1)
    return feats, model.forward_head(final)


class ScoredModel(torch.nn.Module):
    """``model`` plus the unfamiliar statistics as buffers; what ``export_model_version`` writes.

    The buffers are not in ``model``'s state dict: weights.safetensors stays the plain network
    (fine-tuning and SHAP load it unchanged); the statistics live in the ONNX graph.
    """

    def __init__(self, model: torch.nn.Module, stats: UnfamiliarStats) -> None:
        super().__init__()
        self.model = model
        self.stages = stats.stages
        self.register_buffer("mean", torch.from_numpy(stats.mean))
        self.register_buffer("projection", torch.from_numpy(stats.projection))
        self.register_buffer("class_means", torch.from_numpy(stats.class_means))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, logits = features_and_logits(self.model, x, self.stages)
        w = (feats - self.mean) @ self.projection
        d = ((w[:, None, :] - self.class_means[None]) ** 2).sum(-1)
        return logits, d.min(dim=1).values / self.projection.shape[1]


def stats_from_graph(
    onnx_path: Path, model: torch.nn.Module, n_classes: int, channels: int
) -> UnfamiliarStats:
    """The unfamiliar statistics a model version's ONNX graph holds, back as arrays.

    They live only in the graph (:class:`ScoredModel`), so a re-export reads them from there:
    the feature mean and the projection keep their buffer names; the class means are the one
    (1, C, k) constant the exporter folded ``class_means[None]`` into. Which stages fed the
    features follows from the mean's length. Raises :class:`ModelError` when the graph has no
    such statistics; the caller checks the rebuilt scores against the graph's own.
    """
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(onnx_path)).graph
    except (OSError, DecodeError) as exc:  # missing, unreadable or not an ONNX file
        raise ModelError(f"{onnx_path}: cannot read the graph ({exc})") from None
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    mean, projection = consts.get("mean"), consts.get("projection")
    if mean is None or projection is None or mean.ndim != 1 or projection.ndim != 2:
        raise ModelError(f"{onnx_path}: no unfamiliar-plate statistics in the graph")
    k = projection.shape[1]
    centres = [
        a.reshape(n_classes, k)
        for a in consts.values()
        if a.shape in ((1, n_classes, k), (n_classes, k)) and a.dtype == np.float32
    ]
    if len(centres) != 1:
        raise ModelError(f"{onnx_path}: {len(centres)} candidates for the class means, not 1")
    x = torch.zeros(1, channels, 64, 64)  # any size: only the stages' widths are read
    with torch.no_grad():
        _, inter = model.forward_intermediates(x, intermediates_only=False)
    widths = np.cumsum([a.shape[1] for a in inter])
    if mean.shape[0] not in widths:
        raise ModelError(f"{onnx_path}: {mean.shape[0]} features match no set of stages")
    stages = int(np.searchsorted(widths, mean.shape[0])) + 1
    return UnfamiliarStats(stages, mean.copy(), projection.copy(), centres[0].copy())


def check_against_graph(onnx_path: Path, scored: ScoredModel, shape: tuple[int, ...]) -> float:
    """Largest relative difference between ``scored``'s unfamiliar scores and the graph's own,
    on seeded noise; a :class:`ModelError` above 1e-3 (the statistics were misread)."""
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(0, 1, (4, *shape)).astype(np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    want = session.run(None, {session.get_inputs()[0].name: x})[1]
    with torch.no_grad():
        got = scored.float().eval()(torch.from_numpy(x))[1].numpy()
    rel = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-6)))
    if not rel <= 1e-3:
        raise ModelError(f"{onnx_path}: the statistics read back score {rel:.1e} off the graph")
    return rel
