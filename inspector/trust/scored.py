"""The exported two-output module: ``(logits, unfamiliar score)`` from one forward pass."""

from __future__ import annotations

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
