"""Explanations: per-class expected-gradients (SHAP) heatmaps, cached, rendered and checked.

Qt-free and torch-lazy: importing this package imports numpy and OpenCV only.

Usage (see :mod:`inspector.explain.explainer`)::

    from inspector.explain import Explainer, ExplanationCache, render_overlay
    explainer = Explainer("models/default", cache=ExplanationCache(ws / "explanations"))
    expl = jobs.run(explainer.explain("plate.bmp", cancel=event.is_set))
    rgb = render_overlay(gray, expl.map("scratches"))
"""

from inspector.explain.cache import ExplanationCache
from inspector.explain.checks import EDGE_FLAG_THRESHOLD, edge_attention, edge_flag
from inspector.explain.explainer import Explainer, read_image
from inspector.explain.render import render_overlay, save_png
from inspector.explain.settings import ExplainSettings, Explanation

__all__ = [
    "EDGE_FLAG_THRESHOLD",
    "ExplainSettings",
    "Explainer",
    "Explanation",
    "ExplanationCache",
    "edge_attention",
    "edge_flag",
    "read_image",
    "render_overlay",
    "save_png",
]
