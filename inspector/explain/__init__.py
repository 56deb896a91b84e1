"""Explanations: per-class SHAP heatmaps (region Owen values over ONNX, or expected gradients over
torch), cached, rendered and checked.

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
from inspector.explain.regions import RegionExplainer, RegionSettings
from inspector.explain.render import render_overlay, save_png
from inspector.explain.settings import ExplainSettings, Explanation

#: The method the window and ``inspector explain`` use unless told otherwise: region SHAP points at
#: the defect on far more NEU test plates than per-pixel expected gradients
#: (benchmarks/bench_explain_methods.py), needs no torch and is exactly additive.
DEFAULT_METHOD = "regions"
METHODS = ("regions", "gradients")

__all__ = [
    "DEFAULT_METHOD",
    "EDGE_FLAG_THRESHOLD",
    "METHODS",
    "ExplainSettings",
    "Explainer",
    "Explanation",
    "ExplanationCache",
    "RegionExplainer",
    "RegionSettings",
    "edge_attention",
    "edge_flag",
    "read_image",
    "render_overlay",
    "save_png",
]
