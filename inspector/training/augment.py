"""Batched augmentations that fit steel surfaces, on the device, in torch.

Plates have no "up": flips and 90° rotations are label-preserving. Lighting varies along a line:
brightness/contrast jitter. Camera wobble: small affine (reflect-padded, so no black corners the
model could learn as a cue). Sensor noise and slight defocus: Gaussian noise and blur.
Input and output are (B, C, H, W) float in [0, 1]; normalisation happens afterwards with the
model card's :class:`~inspector.imageio.PreprocessSpec`, exactly as at inference.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def flips_rot90(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    b = x.shape[0]
    hflip = torch.rand(b, generator=g) < 0.5
    vflip = torch.rand(b, generator=g) < 0.5
    x = torch.where(hflip[:, None, None, None].to(x.device), x.flip(-1), x)
    x = torch.where(vflip[:, None, None, None].to(x.device), x.flip(-2), x)
    k = torch.randint(0, 2, (b,), generator=g)  # 0/90°: with the flips this covers all 8 symmetries
    return torch.where(k[:, None, None, None].to(x.device) == 1, x.transpose(-1, -2), x)


def small_affine(
    x: torch.Tensor,
    g: torch.Generator,
    degrees: float = 10,
    scale: float = 0.1,
    shift: float = 0.05,
) -> torch.Tensor:
    b = x.shape[0]
    ang = (torch.rand(b, generator=g) * 2 - 1) * math.radians(degrees)
    s = 1 + (torch.rand(b, generator=g) * 2 - 1) * scale
    tx, ty = (torch.rand(2, b, generator=g) * 2 - 1) * shift * 2
    cos, sin = torch.cos(ang) / s, torch.sin(ang) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1).to(
        x.device, x.dtype
    )
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def photometric(x: torch.Tensor, g: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    b = x.shape[0]
    dev = x.device
    contrast = (1 + (torch.rand(b, generator=g) - 0.5) * 0.5 * strength).to(dev)[
        :, None, None, None
    ]
    bright = ((torch.rand(b, generator=g) - 0.5) * 0.2 * strength).to(dev)[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * contrast + mean + bright
    noisy = (torch.rand(b, generator=g) < 0.3).to(dev)[:, None, None, None]
    sigma = (torch.rand(b, generator=g) * 0.04).to(dev)[:, None, None, None]
    noise = torch.randn(x.shape, generator=g).to(dev, x.dtype)
    x = torch.where(noisy, x + noise * sigma, x)
    blurred = (torch.rand(b, generator=g) < 0.2).to(dev)[:, None, None, None]
    k = torch.tensor([1.0, 2.0, 1.0], device=dev, dtype=x.dtype)
    k2 = (k[:, None] * k[None, :] / 16).expand(x.shape[1], 1, 3, 3)
    xb = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), k2, groups=x.shape[1])
    x = torch.where(blurred, xb, x)
    return x.clamp(0, 1)


def augment(x: torch.Tensor, g: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """The full training augmentation; ``strength=0`` returns ``x`` unchanged."""
    if strength <= 0:
        return x
    x = flips_rot90(x, g)
    x = small_affine(x, g, degrees=10 * strength, scale=0.1 * strength, shift=0.05 * strength)
    return photometric(x, g, strength)
