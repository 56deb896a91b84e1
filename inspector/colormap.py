"""The one colour map for attribution heatmaps, and the one way a signed map becomes colours.

Red pushes toward the class, blue against it, white at zero: a diverging map (ColorBrewer RdBu,
reversed), symmetric around zero, readable by most colour-blind viewers, unlike a rainbow map.
The scale is robust: ``vmax`` is a high percentile of |attribution|, so one extreme pixel does not
wash the rest out; pixels beyond it saturate. The CLI's PNG overlays
(:mod:`inspector.explain.render`) and the GUI's overlay and colour bar all use this module, so the
same map looks the same everywhere.

Bottom layer and Qt-free; numpy is imported on first use, so the GUI can import the colour stops
at start-up for free.

>>> import numpy as np
>>> rgba = to_rgba(np.array([[-2.0, 0.0, 2.0]]))
>>> rgba[0, [0, 2], :3].tolist()      # -vmax blue, +vmax red
[[5, 48, 97], [103, 0, 31]]
>>> rgba[0, :, 3].tolist()       # opacity grows with |value|: neutral pixels show the plate
[255, 0, 255]
>>> to_rgba(np.array([[-2.0, 0.0, 2.0]]), positive_only=True)[0, :, 3].tolist()
[0, 0, 255]
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["COLORMAP_STOPS", "colorize", "robust_vmax", "to_rgba"]

#: (position in [0, 1], RGB): 0 is -vmax, 0.5 is zero, 1 is +vmax. Qt gradients take them as is.
COLORMAP_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (5, 48, 97)),
    (0.25, (67, 147, 195)),
    (0.5, (247, 247, 247)),
    (0.75, (214, 96, 77)),
    (1.0, (103, 0, 31)),
)

#: The default robust scale: this percentile of |attribution| is full colour.
CLIP_PERCENTILE = 99.0


@cache
def _lut() -> np.ndarray:
    """(256, 3) uint8: the stops interpolated linearly; index 0 = -vmax, 255 = +vmax."""
    import numpy as np

    xs = np.array([s for s, _ in COLORMAP_STOPS])
    cols = np.array([c for _, c in COLORMAP_STOPS], np.float32)
    t = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(t, xs, cols[:, c]) for c in range(3)], axis=1).astype(np.uint8)


def robust_vmax(amap: np.ndarray, clip_percentile: float = CLIP_PERCENTILE) -> float:
    """The |attribution| at ``clip_percentile`` (never 0, so an all-zero map renders blank)."""
    import numpy as np

    a = np.abs(np.nan_to_num(np.asarray(amap, np.float32)))
    v = float(np.percentile(a, clip_percentile)) if a.size else 0.0
    return v if v > 0 else float(a.max(initial=0.0)) or 1.0


def colorize(
    amap: np.ndarray, vmax: float, positive_only: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) map -> (RGB uint8 colours, strength in [0, 1] = |value| / vmax after clipping).

    ``positive_only`` shows evidence *for* the class alone: negative values get strength 0.
    """
    import numpy as np

    v = np.clip(np.nan_to_num(np.asarray(amap, np.float32)) / vmax, -1.0, 1.0)
    if positive_only:
        v = np.maximum(v, 0.0)
    lut_idx = np.round((v + 1.0) * 127.5).astype(np.uint8)
    return _lut()[lut_idx], np.abs(v).astype(np.float32)


def to_rgba(
    amap: np.ndarray,
    *,
    clip_percentile: float = CLIP_PERCENTILE,
    positive_only: bool = False,
    vmax: float | None = None,
) -> np.ndarray:
    """A signed (H, W) map -> (H, W, 4) uint8 RGBA, alpha = strength (transparent at zero).

    ``vmax`` defaults to :func:`robust_vmax` (of the positive part with ``positive_only``).
    """
    import numpy as np

    a = np.nan_to_num(np.asarray(amap, np.float32))
    if vmax is None:
        vmax = robust_vmax(np.maximum(a, 0.0) if positive_only else a, clip_percentile)
    rgb, strength = colorize(a, vmax, positive_only)
    rgba = np.empty((*a.shape, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = np.round(strength * 255.0).astype(np.uint8)
    return rgba
