"""The one post-training step: calibrate, retune thresholds, fit the unfamiliar-plate score.

Training (:func:`inspector.training.loop._finish`), the learning loop's candidates (through the
same training loop) and ``inspector calibrate`` (a retrofit of an existing version) all call
:func:`fit_trust`, then export with its results::

    trust = fit_trust(model, spec, x_train, train_classes, x_val, y_val, device)
    card = trust.apply(card)                 # thresholds, calibration, unfamiliar
    export_model_version(model, card, out, parity, outputs=trust.scored(model))

``model`` is changed in place: the temperatures are folded into its classifier head.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from inspector import metrics
from inspector.imageio import PreprocessSpec
from inspector.registry import ModelCard
from inspector.runtime.export import round_weights_to_half
from inspector.trust import calibration
from inspector.trust.scored import ScoredModel, default_stages, features_and_logits
from inspector.trust.unfamiliar import (
    UnfamiliarStats,
    card_entry,
    choose_threshold,
    fit_statistics,
)


@dataclass(frozen=True)
class TrustFit:
    """What :func:`fit_trust` found; :meth:`apply` writes it into a card."""

    temperatures: np.ndarray
    thresholds: tuple[float, ...]
    calibration: dict
    unfamiliar: dict
    stats: UnfamiliarStats
    val_probs: np.ndarray  # calibrated validation probabilities (the thresholds' basis)
    val_scores: np.ndarray  # unfamiliar scores of the validation plates

    def apply(self, card: ModelCard) -> ModelCard:
        return replace(
            card,
            thresholds=self.thresholds,
            calibration=self.calibration,
            unfamiliar=self.unfamiliar,
        )

    def scored(self, model: torch.nn.Module) -> ScoredModel:
        """The two-output module to export (wraps ``model``, shares its weights)."""
        return ScoredModel(model, self.stats)


def _batches(x: np.ndarray | torch.Tensor, spec: PreprocessSpec, device, batch_size: int):
    """uint8 (N, 1, S, S) or (N, S, S) -> normalised float batches on ``device``."""
    x = torch.as_tensor(x)
    if x.ndim == 3:
        x = x[:, None]
    mean = torch.tensor(spec.mean, device=device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, -1, 1, 1)
    for i in range(0, len(x), batch_size):
        b = x[i : i + batch_size].to(device).float() / 255.0
        # Same arithmetic as PreprocessSpec.normalize (and the training loop's _normalize).
        yield (b.expand(-1, spec.channels, -1, -1) - mean) / std


@torch.no_grad()
def features(
    model: torch.nn.Module,
    x_uint8: np.ndarray | torch.Tensor,
    spec: PreprocessSpec,
    device: torch.device | str = "cpu",
    stages: int = 0,
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """(early-stage features (N, D), logits (N, K)) for uint8 images, in eval mode."""
    model.eval()
    f, z = [], []
    for b in _batches(x_uint8, spec, device, batch_size):
        fb, zb = features_and_logits(model, b, stages)
        f.append(fb.float().cpu())
        z.append(zb.float().cpu())
    return torch.cat(f).numpy(), torch.cat(z).numpy()


def _stages(model: torch.nn.Module, spec: PreprocessSpec, device) -> int:
    x = torch.zeros(1, spec.channels, spec.size, spec.size, device=device)
    with torch.no_grad():
        return default_stages(len(model.eval().forward_intermediates(x, intermediates_only=True)))


def fit_trust(
    model: torch.nn.Module,
    spec: PreprocessSpec,
    x_train: np.ndarray | torch.Tensor,
    train_classes: np.ndarray,
    x_val: np.ndarray | torch.Tensor,
    y_val: np.ndarray,
    device: torch.device | str = "cpu",
    half_weights: bool = False,
) -> TrustFit:
    """Calibrate ``model`` in place and fit the unfamiliar score; see the module docstring.

    ``x_train``/``x_val``: uint8 images already resized to ``spec.size`` ((N, 1, S, S) or
    (N, S, S)), un-augmented. ``train_classes``: each training image's class index (its folder
    class), or (N, K) targets (the argmax is taken). ``y_val``: (N, K) 0/1 targets.
    ``half_weights``: the model is shipped with float16 weights; the folded head is rounded
    the same way before the thresholds are tuned, so they are the shipped model's.
    """
    model = model.to(device).eval()
    y_val = (np.asarray(y_val) >= 0.5).astype(np.float64)
    labels = np.asarray(train_classes)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    stages = _stages(model, spec, device)

    f_val, z_val = features(model, x_val, spec, device, stages)
    temperatures = calibration.fit_temperatures(z_val, y_val)
    calibration.fold_temperatures(model, temperatures)
    if half_weights:
        round_weights_to_half(model)
    _, z_cal = features(model, x_val, spec, device, stages)  # the folded (and rounded) head's
    p_val = metrics.sigmoid(z_cal)
    t = metrics.best_f1_thresholds(y_val, p_val)
    thresholds = tuple(float(v) for v in t)
    cal = calibration.report(z_val, y_val, temperatures)
    # "after" as measured on the model as shipped (folded, and float16-rounded when it is).
    ece = [metrics.expected_calibration_error(y_val[:, k], p_val[:, k]) for k in range(len(t))]
    cal["val_ece_after"] = ece
    cal["val_mean_ece_after"] = round(float(np.mean(ece)), 6)
    cal["val_bce_after"] = round(float(metrics.per_image_bce(y_val, p_val).mean()), 6)

    f_train, _ = features(model, x_train, spec, device, stages)
    stats = fit_statistics(f_train, labels, z_val.shape[1], stages=stages)
    val_scores = stats.score(f_val)
    threshold = choose_threshold(val_scores)
    fitted = {
        "fitted_on": "training split (statistics), validation split (threshold)",
        "n_train": len(f_train),
        "n_val": len(f_val),
        "train_score_median": round(float(np.median(stats.score(f_train))), 4),
        "val_score_median": round(float(np.median(val_scores)), 4),
        "val_flagged": round(float(np.mean(~(val_scores <= threshold))), 4),
    }
    return TrustFit(
        temperatures=temperatures,
        thresholds=thresholds,
        calibration=cal,
        unfamiliar=card_entry(stats, threshold, fitted),
        stats=stats,
        val_probs=p_val,
        val_scores=val_scores,
    )
