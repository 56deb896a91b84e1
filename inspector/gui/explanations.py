"""The GUI's door to ``inspector.explain`` (SHAP heatmaps), which may not be installed/usable.

:func:`explain_job` runs in a worker: it yields :class:`~inspector.domain.Progress` and returns an
:class:`Explanation`; when the explain package, torch or the model's weights are missing it raises
:class:`ExplanationsUnavailable` with a one-line reason the side panel shows instead of a heatmap.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from inspector.domain import InspectorError, Progress
from inspector.gui.workers import Cancel


class ExplanationsUnavailable(InspectorError):
    """Heatmaps cannot be computed here (package, torch or weights missing)."""


@dataclass(frozen=True, slots=True)
class Explanation:
    path: str
    cls: str
    heatmap: Any  # 2-D ndarray, positive = evidence for the class
    edge_attention: bool = False
    cached: bool = False


def _module():
    try:
        return importlib.import_module("inspector.explain")
    except ImportError as exc:
        raise ExplanationsUnavailable(f"explanations unavailable ({exc.name or exc} missing)") \
            from None


def explain_job(cancel: Cancel, model_dir: str, path: str, cls: str, workspace: str
                ) -> Iterator[Progress | Explanation]:
    """Compute (or fetch from the cache) the heatmap of ``cls`` for ``path``.

    Adapts to ``inspector.explain`` as it lands: it looks for a generator function
    ``explain_image(model_dir, path, classes=[cls], cache_dir=..., cancel=...)`` yielding
    Progress and a final result carrying a heatmap per class.
    """
    mod = _module()
    fn = getattr(mod, "explain_image", None)
    if fn is None:
        raise ExplanationsUnavailable("explanations unavailable (inspector.explain has no "
                                      "explain_image yet)")
    params = inspect.signature(fn).parameters
    kwargs = {}
    if "cache_dir" in params:
        kwargs["cache_dir"] = f"{workspace}/cache/shap"
    if "cancel" in params:
        kwargs["cancel"] = lambda: cancel.is_set
    if "classes" in params:
        kwargs["classes"] = [cls]
    try:
        out = fn(model_dir, path, **kwargs)
        result = None
        if inspect.isgenerator(out):
            for item in out:
                cancel.check()
                if isinstance(item, Progress):
                    yield item
                else:
                    result = item
        else:
            result = out
    except ImportError as exc:
        raise ExplanationsUnavailable(f"explanations unavailable ({exc.name or exc} missing)") \
            from None
    if result is None:
        raise ExplanationsUnavailable("explanations unavailable (no result)")
    heat = _heatmap_of(result, cls)
    edge = bool(getattr(result, "edge_attention", False) or
                (isinstance(result, dict) and result.get("edge_attention")))
    if isinstance(getattr(result, "edge_attention", None), dict):
        edge = bool(result.edge_attention.get(cls))
    yield Explanation(path, cls, heat, edge, bool(getattr(result, "cached", False)))


def _heatmap_of(result, cls: str):
    import numpy as np

    for name in ("heatmaps", "maps"):
        maps = getattr(result, name, None) if not isinstance(result, dict) else result.get(name)
        if isinstance(maps, dict) and cls in maps:
            return np.asarray(maps[cls], np.float32)
    heat = getattr(result, "heatmap", None)
    if heat is not None:
        return np.asarray(heat, np.float32)
    if isinstance(result, np.ndarray):
        return result.astype(np.float32)
    raise ExplanationsUnavailable(
        "explanations unavailable (unexpected result from inspector.explain)")
