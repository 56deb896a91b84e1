"""Grad-CAM on a timm network's last feature map: the comparison figure for the box check.

Usage: ``cam = gradcam(model, x, class_index)``, an (s, s) float32 map, >= 0.

Grad-CAM answers "which region of the last feature map" at 1/32 of the input resolution; expected
gradients answers "which pixels", against baseline images. Reporting both shows whether the finer
method also localises defects at least as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inspector.domain import ModelError

if TYPE_CHECKING:
    import torch


def gradcam(
    model: torch.nn.Module, x: np.ndarray, class_index: int, device: str = "cpu"
) -> np.ndarray:
    """ReLU(Σ_k mean(∂y_c/∂A_k)·A_k), upsampled bilinearly to the input size."""
    import torch
    import torch.nn.functional as F

    if not (hasattr(model, "forward_features") and hasattr(model, "forward_head")):
        raise ModelError("Grad-CAM needs a timm model (forward_features / forward_head)")
    inp = torch.from_numpy(np.ascontiguousarray(x[None], np.float32)).to(device)
    with torch.no_grad():
        feats = model.forward_features(inp.contiguous(memory_format=torch.channels_last))
    if feats.ndim != 4:
        raise ModelError(f"Grad-CAM needs a spatial feature map, got shape {tuple(feats.shape)}")
    feats = feats.detach().requires_grad_(True)
    with torch.enable_grad():
        out = model.forward_head(feats)
        (g,) = torch.autograd.grad(out[0, class_index], feats)
    cam = torch.relu((g.mean(dim=(2, 3), keepdim=True) * feats).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[1:], mode="bilinear", align_corners=False)
    return cam[0, 0].detach().cpu().numpy().astype(np.float32)
