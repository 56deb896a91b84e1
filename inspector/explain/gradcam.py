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
    model: torch.nn.Module,
    x: np.ndarray,
    class_index: int,
    device: str = "cpu",
    plus_plus: bool = False,
) -> np.ndarray:
    """ReLU(Σ_k w_k·A_k), upsampled bilinearly to the input size.

    Grad-CAM: w_k = mean(∂y_c/∂A_k). Grad-CAM++ (``plus_plus``): w_k = Σ_ij α_ij·ReLU(∂y_c/∂A_k)
    with α = g² / (2g² + Σ_ij A·g³) (Chattopadhyay et al. 2018, the usual closed form), which
    weighs every location that raises the class instead of the average gradient.
    """
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
    if plus_plus:
        g2, g3 = g**2, g**3
        denom = 2 * g2 + feats.sum(dim=(2, 3), keepdim=True) * g3
        alpha = torch.where(g != 0, g2 / torch.where(denom != 0, denom, torch.ones_like(denom)), 0)
        weights = (alpha * torch.relu(g)).sum(dim=(2, 3), keepdim=True)
    else:
        weights = g.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * feats).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[1:], mode="bilinear", align_corners=False)
    return cam[0, 0].detach().cpu().numpy().astype(np.float32)
