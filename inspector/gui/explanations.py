"""The GUI's door to ``inspector.explain`` (SHAP heatmaps), which may not be installed/usable.

:func:`explain_job` runs in a worker: it yields :class:`~inspector.domain.Progress` and returns an
:class:`Explanation`; when the explain package, torch or the model's weights are missing it raises
:class:`ExplanationsUnavailable` with a one-line reason the side panel shows instead of a heatmap.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
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
    samples: int = 0
    final: bool = True  # False: a first look, refined by the next one


def _module():
    try:
        return importlib.import_module("inspector.explain")
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None


_EXPLAINERS: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()


def _explainer(model_dir: str, workspace: str):
    """One Explainer per (model, workspace): it holds the torch model once loaded."""
    mod = _module()
    key = (str(model_dir), str(workspace))
    with _LOCK:
        if key not in _EXPLAINERS:
            cache = mod.ExplanationCache(Path(workspace) / "explanations")
            _EXPLAINERS[key] = mod.Explainer(model_dir, cache=cache, threads=1)
        return _EXPLAINERS[key]


def explain_job(
    cancel: Cancel, model_dir: str, path: str, cls: str, workspace: str
) -> Iterator[Progress | Explanation]:
    """Compute (or fetch from the workspace cache) the heatmap of ``cls`` for ``path``.

    All classes are explained at once (that is what the cache keeps), so switching the class
    afterwards is instant. Torch is imported here, in the worker, the first time only.
    """
    mod = _module()
    try:
        explainer = _explainer(model_dir, workspace)
        job = explainer.explain(path, cancel=lambda: cancel.is_set)
        for p in job:
            cancel.check()
            yield p
            if (partial := p.extra.get("partial")) is not None:
                yield _for_view(mod, path, cls, partial)  # show the first look while refining
    except ImportError as exc:
        raise ExplanationsUnavailable(
            f"explanations unavailable ({exc.name or exc} missing)"
        ) from None
    if job.result is not None:  # None: cancelled
        yield _for_view(mod, path, cls, job.result)


def _for_view(mod: Any, path: str, cls: str, result: Any) -> Explanation:
    heat = result.map(cls)
    return Explanation(
        path,
        cls,
        heat,
        bool(mod.edge_flag(heat)),
        bool(result.from_cache),
        result.samples,
        result.final,
    )
