"""Heatmap overlays as plain RGB arrays (numpy + OpenCV, no Qt, no matplotlib): for PNG files.

The colours and the scale are :mod:`inspector.colormap`'s (the GUI uses the same): red pushes
toward the class, blue against it, symmetric around zero, scaled by a robust maximum.

>>> gray = np.full((60, 90), 128, np.uint8)
>>> amap = np.zeros((60, 90), np.float32); amap[:, :30] = 1.0   # evidence for, on the left
>>> render_overlay(gray, amap, with_colorbar=False).shape   # the image's own size, RGB
(60, 90, 3)
>>> render_overlay(gray, amap, title="scratches p=0.93").shape[1] > 90   # + a colour bar
True

``save_png(path, rgb)`` writes the result.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from inspector.colormap import CLIP_PERCENTILE, colorize, robust_vmax


def overlay(
    gray: np.ndarray,
    amap: np.ndarray,
    opacity: float = 0.6,
    clip_percentile: float = CLIP_PERCENTILE,
) -> tuple[np.ndarray, float]:
    """Blend the coloured map over the image; return (RGB uint8 of the image's size, vmax).

    Opacity grows with |attribution| (times ``opacity``), so neutral regions show the plate itself.
    """
    if amap.shape != gray.shape:
        amap = cv2.resize(amap.astype(np.float32), (gray.shape[1], gray.shape[0]))
    vmax = robust_vmax(amap, clip_percentile)
    colours, strength = colorize(amap, vmax)
    alpha = (float(np.clip(opacity, 0.0, 1.0)) * strength)[..., None]
    base = np.repeat(gray[..., None], 3, axis=2).astype(np.float32)
    out = base * (1.0 - alpha) + colours.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), vmax


def colorbar(height: int, vmax: float, width: int = 14, label_width: int = 64) -> np.ndarray:
    """A vertical colour bar (+vmax at the top, −vmax at the bottom) with numeric labels."""
    height = max(height, 32)
    ramp = np.linspace(1.0, -1.0, height)[:, None].repeat(width, axis=1)
    bar, _ = colorize(ramp, 1.0)
    panel = np.full((height, width + label_width, 3), 255, np.uint8)
    panel[:, :width] = bar
    scale = max(0.3, min(0.45, height / 400))
    for text, y in ((f"+{vmax:.2g}", 12), ("0", height // 2 + 4), (f"-{vmax:.2g}", height - 4)):
        cv2.putText(
            panel, text, (width + 3, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA
        )
    return panel


def render_overlay(
    gray: np.ndarray,
    amap: np.ndarray,
    *,
    opacity: float = 0.6,
    clip_percentile: float = CLIP_PERCENTILE,
    with_colorbar: bool = True,
    title: str | None = None,
) -> np.ndarray:
    """Overlay (+ colour bar on the right, + an optional title strip) as one RGB uint8 image.

    Without colour bar and title the result has exactly the image's size (for the GUI's view).
    """
    rgb, vmax = overlay(gray, amap, opacity, clip_percentile)
    if with_colorbar:
        bar = colorbar(rgb.shape[0], vmax)
        gap = np.full((bar.shape[0], 6, 3), 255, np.uint8)
        if bar.shape[0] > rgb.shape[0]:  # tiny images: pad so the bar stays legible
            pad = np.full((bar.shape[0] - rgb.shape[0], rgb.shape[1], 3), 255, np.uint8)
            rgb = np.concatenate([rgb, pad])
        rgb = np.concatenate([rgb, gap, bar], axis=1)
    if title:
        strip = np.full((22, rgb.shape[1], 3), 255, np.uint8)
        cv2.putText(
            strip, title, (3, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA
        )
        rgb = np.concatenate([strip, rgb])
    return rgb


def hstack_panels(panels: list[np.ndarray], gap: int = 8) -> np.ndarray:
    """Side by side (e.g. one overlay per class, or SHAP vs Grad-CAM), white-padded to one height."""
    h = max(p.shape[0] for p in panels)
    out = []
    for i, p in enumerate(panels):
        if p.shape[0] < h:
            p = np.concatenate([p, np.full((h - p.shape[0], p.shape[1], 3), 255, np.uint8)])
        out.append(p)
        if i + 1 < len(panels):
            out.append(np.full((h, gap, 3), 255, np.uint8))
    return np.concatenate(out, axis=1)


def save_png(path: str | os.PathLike[str], rgb: np.ndarray) -> Path:
    """Write an RGB uint8 image as PNG (via bytes, so non-ASCII paths work on every OS)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise OSError(f"could not encode {path} as PNG")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(buf.tobytes())
    return p
