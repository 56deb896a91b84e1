"""Fold eval-mode BatchNorm into the convolution before it: same function, less work.

In the expected-gradients backward passes BatchNorm forward+backward was ~27 % of the time for
MobileNetV3 (profiled here), yet in eval mode it is only a per-channel affine map that can live in
the conv's weights. Works on any network: a forward pass with hooks finds each BatchNorm2d whose
input *is* a Conv2d's output tensor; the result is checked against the original and discarded if
the logits differ.

Usage: ``fused = fuse_conv_bn(model, example)`` (``example``: an input batch for the check).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def fuse_conv_bn(model: torch.nn.Module, example: torch.Tensor) -> torch.nn.Module:
    """A copy of ``model`` (eval) with conv→BN pairs folded; ``model`` itself if that fails."""
    import torch
    from torch import nn

    model = model.eval()
    fused = copy.deepcopy(model)
    # keep the output tensors alive during the pass, so no id() is reused by another tensor
    convs: dict[int, tuple[nn.Conv2d, torch.Tensor]] = {}
    pairs: list[tuple[nn.Conv2d, nn.BatchNorm2d]] = []
    hooks = []
    for mod in fused.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(
                mod.register_forward_hook(lambda m, _i, out: convs.__setitem__(id(out), (m, out)))
            )
        elif isinstance(mod, nn.BatchNorm2d):
            hooks.append(
                mod.register_forward_pre_hook(
                    lambda m, inp: (
                        pairs.append((convs[id(inp[0])][0], m)) if id(inp[0]) in convs else None
                    )
                )
            )
    with torch.no_grad():
        reference = fused(example)
    for h in hooks:
        h.remove()
    if not pairs or len({id(c) for c, _ in pairs}) != len(pairs):
        return model  # nothing to fold, or a conv feeding two BNs: leave it alone
    try:
        _fold(fused, pairs)
    except _CannotFuse:
        return model
    with torch.no_grad():
        out = fused(example)
    tol = 1e-3 * float(reference.abs().max()) + 1e-5
    return fused if float((out - reference).abs().max()) <= tol else model


def _fold(fused: torch.nn.Module, pairs: list) -> None:
    import torch
    from torch import nn

    with torch.no_grad():
        for conv, bn in pairs:
            scale = (
                bn.weight / torch.sqrt(bn.running_var + bn.eps)
                if bn.affine
                else 1.0 / torch.sqrt(bn.running_var + bn.eps)
            )
            shift = (bn.bias if bn.affine else 0.0) - bn.running_mean * scale
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            bias = conv.bias if conv.bias is not None else torch.zeros_like(shift)
            conv.bias = nn.Parameter(bias * scale + shift, requires_grad=False)
            _replace(fused, bn, _remainder(bn))


def _remainder(bn: torch.nn.Module) -> torch.nn.Module:
    """What is left of a BN module without the normalisation (timm's BatchNormAct2d: drop + act)."""
    from torch import nn

    if type(bn) is nn.BatchNorm2d:
        return nn.Identity()
    drop, act = getattr(bn, "drop", None), getattr(bn, "act", None)
    if drop is None or act is None:
        raise _CannotFuse(type(bn).__name__)
    return nn.Sequential(drop, act)


class _CannotFuse(Exception):
    pass


def _replace(root: torch.nn.Module, old: torch.nn.Module, new: torch.nn.Module) -> None:
    for parent in root.modules():
        for name, child in parent.named_children():
            if child is old:
                setattr(parent, name, new)
