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


def geometric_with_masks(
    x: torch.Tensor, masks: torch.Tensor, g: torch.Generator, strength: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Flips, 90° rotations and the small affine, applied alike to plates and their box masks."""
    c = x.shape[1]
    both = torch.cat([x, masks.to(x.dtype)], dim=1)
    both = flips_rot90(both, g)
    if strength > 0:
        both = small_affine(
            both, g, degrees=10 * strength, scale=0.1 * strength, shift=0.05 * strength
        )
    return both[:, :c], both[:, c:]


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, math.ceil(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    import cv2
    import numpy as np

    out = []
    for img in (x[:, 0].clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy():
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        out.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE) if ok else img)
    return torch.from_numpy(np.stack(out)).to(x.device, x.dtype)[:, None] / 255.0


def corruptions(x: torch.Tensor, g: torch.Generator, prob: float) -> torch.Tensor:
    """What a line camera does to a plate: sensor noise, defocus, exposure, uneven light, JPEG.

    Each corruption hits a share ``prob`` of the batch, drawn independently, at strengths that
    cover the robustness suite's (noise σ 0.05, blur σ 1.5 at 200 px, brightness ±25 %, a light
    gradient, JPEG quality 50) so the model has seen such plates with their labels.
    """
    if prob <= 0:
        return x
    b, dev = x.shape[0], x.device

    def pick() -> torch.Tensor:
        return (torch.rand(b, generator=g) < prob).to(dev)[:, None, None, None]

    sigma = (torch.rand(b, generator=g) * 0.06).to(dev)[:, None, None, None]
    x = torch.where(pick(), x + torch.randn(x.shape, generator=g).to(dev, x.dtype) * sigma, x)
    s = 0.4 + float(torch.rand(1, generator=g)) * 0.9  # 0.4-1.3 px at 144 ≈ 0.55-1.8 at 200
    x = torch.where(pick(), _gaussian_blur(x, s), x)
    gain = (0.7 + torch.rand(b, generator=g) * 0.6).to(dev)[:, None, None, None]
    x = torch.where(pick(), x * gain, x)
    h, w = x.shape[-2:]
    ang = torch.rand(b, generator=g) * 2 * math.pi
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    ramp = torch.cos(ang)[:, None, None] * xx + torch.sin(ang)[:, None, None] * yy
    depth = (torch.rand(b, generator=g) * 0.45)[:, None, None]
    light = (1 + depth * ramp / math.sqrt(2))[:, None].to(dev, x.dtype)
    x = torch.where(pick(), x * light, x)
    x = x.clamp(0, 1)
    jpeg = pick().flatten()
    if jpeg.any():
        q = int(30 + torch.randint(0, 61, (1,), generator=g))
        x[jpeg] = _jpeg(x[jpeg], q)
    return x
