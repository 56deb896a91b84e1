"""One colour map: the CLI's PNG overlay and the GUI's RGBA overlay colour a map the same way."""

from __future__ import annotations

import numpy as np

from inspector.colormap import COLORMAP_STOPS, to_rgba
from inspector.explain.render import colorbar, overlay


def _signed_map() -> np.ndarray:
    rng = np.random.default_rng(0)
    m = rng.normal(0, 0.2, (40, 60)).astype(np.float32)
    m[:, :10] = 1.0  # strongly toward the class
    m[:, -10:] = -1.0  # strongly against it
    return m


def test_the_gui_overlay_and_the_cli_png_show_the_same_colours():
    m = _signed_map()
    rgba = to_rgba(m)
    png, _ = overlay(np.zeros(m.shape, np.uint8), m, opacity=1.0)
    full = rgba[..., 3] == 255  # where the GUI paints opaquely, the PNG has the map's own colour
    assert full.sum() >= 800
    assert np.abs(png[full].astype(int) - rgba[..., :3][full].astype(int)).max() <= 1
    # ... and both are the colour bar's colours at its ends (+vmax on top, -vmax at the bottom).
    bar = colorbar(64, 1.0)
    assert tuple(rgba[0, 0, :3]) == tuple(bar[0, 0]) == COLORMAP_STOPS[-1][1]
    assert tuple(rgba[0, -1, :3]) == tuple(bar[-1, 0]) == COLORMAP_STOPS[0][1]


def test_the_scale_is_symmetric_and_one_outlier_does_not_wash_the_map_out():
    m = _signed_map()
    m[0, 0] = 1000.0
    rgba = to_rgba(m)
    assert (rgba[:, 1:10, 3] == 255).all() and (rgba[:, -10:, 3] == 255).all()


def test_positive_only_hides_the_evidence_against_and_nan_is_transparent():
    m = _signed_map()
    m[5, 20] = np.nan
    rgba = to_rgba(m, positive_only=True)
    assert (rgba[:, -10:, 3] == 0).all()
    assert (rgba[:, :10, 3] == 255).all()
    assert rgba[5, 20, 3] == 0
