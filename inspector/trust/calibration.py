"""Per-class temperature scaling, fitted on validation logits and folded into the classifier head.

A sigmoid probability ``sigmoid(z / T_k)`` with one temperature per class: T > 1 softens an
over-confident class, T < 1 sharpens an under-confident one. Each temperature minimises the
validation binary cross-entropy of its class by a 1-D search over ``[T_MIN, T_MAX]``.

>>> z = np.array([[8.0], [6.0], [-7.0], [5.0], [-6.0]])   # confident, one of five wrong
>>> y = np.array([[1.0], [1.0], [0.0], [0.0], [0.0]])
>>> float(fit_temperatures(z, y)[0].round(2)) > 1          # wants softening
True

A class the validation set gets entirely right (every positive logit > 0, every negative < 0)
carries no evidence about how sharp to be: its BCE keeps falling as T -> 0, so the optimum would
be the search bound, an artefact. Such a class keeps T = 1 (``separable`` in the card says so).
On NEU, with validation AP 1.0, that is every class of the shipped model.

Folding ``W / T``, ``b / T`` into the last linear layer gives the calibrated logits everywhere
(ONNX, safetensors, SHAP, fine-tuning) at no run-time cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inspector import metrics
from inspector.domain import ModelError

if TYPE_CHECKING:
    import torch

T_MIN, T_MAX = 0.25, 20.0
_GRID = np.geomspace(T_MIN, T_MAX, 481)  # ratio 1.0092 between steps: < 1 % off the optimum


def _bce(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean BCE of logits ``z`` (..., N) against ``y`` (N,), stable for large |z|."""
    return (np.logaddexp(0.0, z) - y * z).mean(axis=-1)


def separable(z: np.ndarray, y: np.ndarray) -> bool:
    """True when the logit's sign is right for every image (then BCE falls as T -> 0).

    >>> separable(np.array([3.0, -2.0]), np.array([1, 0])), separable(np.array([3.0, 1.0]), np.array([1, 0]))
    (True, False)
    """
    return bool(((z > 0) == (y >= 0.5)).all())


def fit_temperatures(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N, K) validation logits and 0/1 targets -> (K,) temperatures in [T_MIN, T_MAX]."""
    z = np.asarray(logits, np.float64)
    y = np.asarray(y, np.float64)
    out = np.ones(z.shape[1])
    for k in range(z.shape[1]):
        if separable(z[:, k], y[:, k]):
            continue
        losses = _bce(z[None, :, k] / _GRID[:, None], y[None, :, k])
        out[k] = float(_GRID[int(np.argmin(losses))])
    return out


def report(logits: np.ndarray, y: np.ndarray, temperatures: np.ndarray) -> dict:
    """The card's ``calibration`` object: temperatures and validation BCE/ECE before and after."""
    z = np.asarray(logits, np.float64)
    y = np.asarray(y, np.float64)
    t = np.asarray(temperatures, np.float64)
    p0, p1 = metrics.sigmoid(z), metrics.sigmoid(z / t)
    ece0 = [metrics.expected_calibration_error(y[:, k], p0[:, k]) for k in range(z.shape[1])]
    ece1 = [metrics.expected_calibration_error(y[:, k], p1[:, k]) for k in range(z.shape[1])]
    return {
        "method": "per-class temperature, folded into the classifier head (W/T, b/T)",
        "fitted_on": "validation split",
        "n_images": len(z),
        "search": {"min": T_MIN, "max": T_MAX, "objective": "per-class BCE"},
        "temperatures": [round(float(v), 4) for v in t],
        "separable": [separable(z[:, k], y[:, k]) for k in range(z.shape[1])],
        "val_bce_before": round(float(_bce(z.T, y.T).mean()), 6),
        "val_bce_after": round(float(_bce((z / t).T, y.T).mean()), 6),
        "val_ece_before": [round(v, 6) for v in ece0],
        "val_ece_after": [round(v, 6) for v in ece1],
        "val_mean_ece_before": round(float(np.mean(ece0)), 6),
        "val_mean_ece_after": round(float(np.mean(ece1)), 6),
    }


def classifier(model: torch.nn.Module) -> torch.nn.Linear:
    """The final linear layer of a timm model (the one whose rows are the classes)."""
    import torch

    head = model.get_classifier() if hasattr(model, "get_classifier") else None
    if not isinstance(head, torch.nn.Linear):
        raise ModelError(f"cannot find a linear classifier head in {type(model).__name__}")
    return head


def fold_temperatures(model: torch.nn.Module, temperatures: np.ndarray) -> None:
    """Divide each class's row of the classifier head by its temperature, in place."""
    import torch

    head = classifier(model)
    t = torch.as_tensor(np.asarray(temperatures), dtype=head.weight.dtype)
    if t.shape != (head.out_features,):
        raise ModelError(f"{len(t)} temperatures for a head with {head.out_features} classes")
    with torch.no_grad():
        head.weight.div_(t.to(head.weight.device)[:, None])
        if head.bias is not None:
            head.bias.div_(t.to(head.bias.device))
