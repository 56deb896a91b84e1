"""The controllers' door to ``inspector.explain`` (SHAP heatmaps), which may not be usable here.

:func:`explain_job` is a job (:mod:`inspector.jobs`): it yields Progress, a first-look
:class:`Heatmap` as a Partial while the explainer refines, and returns the final one. When the
explain package, torch or the model's weights are missing it raises
:class:`ExplanationsUnavailable` with a one-line reason the side panel shows instead of a heatmap.
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


def _module() -> Any:
    try:
        return importlib.import_module("inspector.explain")
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None


_EXPLAINERS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _explainer(model_dir: str, workspace: str) -> Any:
    """One Explainer per (model, workspace): it holds the torch model once loaded."""
    mod = _module()
    key = (str(model_dir), str(workspace))
    with _LOCK:
        if key not in _EXPLAINERS:
            cache = mod.ExplanationCache(paths.explanations_dir(workspace))
            _EXPLAINERS[key] = mod.Explainer(model_dir, cache=cache, threads=1)
        return _EXPLAINERS[key]


def warm_up(model_dir: str, workspace: str, cancel: CancelFn = never) -> Job[str]:
    """Load torch and the model's weights for heatmaps ahead of the first request; the device."""
    yield Progress(0, 2, "loading torch for heatmaps")
    try:
        explainer = _explainer(model_dir, workspace)
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
    model_dir: str, path: str, cls: str, workspace: str, cancel: CancelFn = never
) -> Job[Heatmap]:
    """The heatmap of ``cls`` for ``path``, computed or from the workspace's cache.

    All classes are explained at once (that is what the cache keeps), so switching the class
    afterwards is instant. Torch is imported here, in the worker, the first time only.
    """
    mod = _module()
    try:
        explainer = _explainer(model_dir, workspace)
        job = explainer.explain(path, cancel=cancel)
        while True:
            try:
                item = next(job)
            except StopIteration as stop:
                return _for_view(mod, path, cls, stop.value)
            if isinstance(item, Partial):  # a first look while the map refines
                item = Partial(_for_view(mod, path, cls, item.value))
            yield item
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None


def _for_view(mod: Any, path: str, cls: str, result: Any) -> Heatmap:
    values = result.map(cls)
    return Heatmap(
        path,
        cls,
        values,
        bool(mod.edge_flag(values)),
        bool(result.from_cache),
        result.samples,
        result.final,
    )
