"""The controllers' door to ``inspector.explain`` (SHAP heatmaps), which may not be usable here.

:func:`explain_job` is a job (:mod:`inspector.jobs`): it yields Progress, a first-look
:class:`Heatmap` as a Partial while the explainer refines, and returns the final one. When the
explain package, torch or the model's weights are missing it raises
:class:`ExplanationsUnavailable` with a one-line reason the side panel shows instead of a heatmap.

The window draws ``inspector.explain.DEFAULT_METHOD`` (``"regions"``: SHAP values over image
regions through ONNX Runtime, no torch needed); ``method="gradients"`` (expected gradients,
needs torch and the weights) stays available. Each Heatmap names the method that drew it.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

from inspector import paths
from inspector.domain import InspectorError, Progress
from inspector.jobs import CancelFn, Job, Partial, check, never


class ExplanationsUnavailable(InspectorError):
    """Heatmaps cannot be computed here (package, torch or weights missing)."""


@dataclass(frozen=True, slots=True)
class Heatmap:
    """One class's map of one image, as the window shows it (the core's Explanation holds all)."""

    path: str
    cls: str
    values: Any  # 2-D ndarray at the image's resolution, positive = evidence for the class
    edge_attention: bool = False
    cached: bool = False
    samples: int = 0
    final: bool = True  # False: a first look, refined by the next one
    method: str = "SHAP"  # which method drew it, as the panel says it
    unit: str = "samples"  # what ``samples`` counts ("masked images" for regions)


def _module() -> Any:
    try:
        return importlib.import_module("inspector.explain")
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None


_EXPLAINERS: dict[tuple[str, str, str], Any] = {}
_LOCK = threading.Lock()


def _explainer(model_dir: str, workspace: str, method: str | None = None) -> Any:
    """One explainer per (model, workspace, method): it holds its session/model once loaded."""
    mod = _module()
    method = method or mod.DEFAULT_METHOD
    if method not in mod.METHODS:
        raise ValueError(f"method must be one of {mod.METHODS}, not {method!r}")
    key = (str(model_dir), str(workspace), method)
    with _LOCK:
        if key not in _EXPLAINERS:
            cache = mod.ExplanationCache(paths.explanations_dir(workspace))
            if method == "regions":  # ONNX Runtime, 2 threads (the goal's setting)
                _EXPLAINERS[key] = mod.RegionExplainer(model_dir, cache=cache, threads=2)
            else:
                _EXPLAINERS[key] = mod.Explainer(model_dir, cache=cache, threads=1)
        return _EXPLAINERS[key]


def warm_up(
    model_dir: str, workspace: str, cancel: CancelFn = never, method: str | None = None
) -> Job[str]:
    """Load what heatmaps need ahead of the first request (torch and the weights for gradients,
    the ONNX session for regions); the device."""
    torch_needed = (method or getattr(_module(), "DEFAULT_METHOD", "")) == "gradients"
    yield Progress(0, 2, "loading torch for heatmaps" if torch_needed else "opening heatmaps")
    try:
        explainer = _explainer(model_dir, workspace, method)
        check(cancel)
        yield Progress(1, 2, "loading the model's weights")
        device = explainer.prepare()
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None
    yield Progress(2, 2, "heatmaps ready")
    return device


def explain_job(
    model_dir: str,
    path: str,
    cls: str,
    workspace: str,
    cancel: CancelFn = never,
    method: str | None = None,
) -> Job[Heatmap]:
    """The heatmap of ``cls`` for ``path``, computed or from the workspace's cache.

    All classes are explained at once (that is what the cache keeps), so switching the class
    afterwards is instant. ``method``: None = the default (regions); "gradients" imports torch
    here, in the worker, the first time only.
    """
    mod = _module()
    boxes: dict = {}  # map shape -> the class's box mask: the VOC file is read once a job
    try:
        explainer = _explainer(model_dir, workspace, method)
        job = explainer.explain(path, cancel=cancel)
        while True:
            try:
                item = next(job)
            except StopIteration as stop:
                return _for_view(mod, path, cls, stop.value, explainer, boxes)
            if isinstance(item, Partial):  # a first look while the map refines
                item = Partial(_for_view(mod, path, cls, item.value, explainer, boxes))
            yield item
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None


def _for_view(mod: Any, path: str, cls: str, result: Any, explainer: Any, boxes: dict) -> Heatmap:
    from inspector.voc import class_mask_beside

    values = result.map(cls)
    # a defect boxed at the border (a VOC file beside the image) is not "looking at the edges"
    if values.shape not in boxes:
        boxes[values.shape] = class_mask_beside(path, cls, values.shape)
    inside = boxes[values.shape]
    method = getattr(explainer, "method", "SHAP")
    return Heatmap(
        path,
        cls,
        values,
        bool(mod.edge_flag(values, inside=inside)),
        bool(result.from_cache),
        result.samples,
        result.final,
        method,
        "masked images" if isinstance(explainer, mod.RegionExplainer) else "samples",
    )
