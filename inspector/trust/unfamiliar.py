"""The unfamiliar-plate score: how unlike the training plates an image looks to the network.

Method (chosen by ``benchmarks/bench_unfamiliar.py``): class-conditional Mahalanobis distance
with one shared covariance, on the **channel means of the backbone's early stages** (every
stage of ``forward_intermediates`` but the last; 16+24+40+112 = 192 values for
``tf_efficientnet_lite0``). The score is the smallest squared distance to a class mean, in
whitened units, divided by the number of dimensions, so a training plate scores about 1.

Why not the penultimate pooled features (1280-d) the textbook uses: measured on the shipped
model, they hardly separate stand-ins from NEU test plates (AUROC 0.63-0.84 at 16-128 dims,
0.71 full rank): a network trained to tell six defects apart maps a blurred plate, a checkerboard
or an empty frame near some class. The early stages keep what the camera and the steel look like
(grain, contrast, noise, sharpness), which is what changes on another line: AUROC 0.986.

Everything runs inside the ONNX graph, in the same run as the logits: channel means
(ReduceMean), one (D, k) MatMul, six distances (:mod:`inspector.trust.scored`). The statistics
are about 150 kB for the shipped model.

>>> rng = np.random.default_rng(0)
>>> x = rng.normal(0, 1, (300, 4)); y = np.repeat([0, 1, 2], 100); x[:, 0] += 5 * y
>>> stats = fit_statistics(x, y, n_classes=3)
>>> s = stats.score(np.array([[5.0, 0, 0, 0], [5.0, 9, 0, 0]]))
>>> bool(s[0] < 2 < s[1])     # near class 1: familiar; far off in another direction: not
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.domain import ModelError

OUTPUT = "unfamiliar"
METHOD = "class-conditional Mahalanobis (shared covariance) on early-stage channel means"
#: Ridge added to the covariance's eigenvalues, as a fraction of their mean: keeps directions
#: the training plates never vary in from turning tiny numerical noise into huge distances.
SHRINKAGE = 0.01
#: At most this many whitened directions (the largest): bounds the graph's (D, k) matrix.
MAX_DIMS = 192
#: The threshold flags this fraction of validation plates. 0: the highest validation score. On a
#: 270-plate validation split the 0.99 quantile is the third-highest plate, a noisy estimate
#: (3 % of NEU test plates fell above it for v2); above the maximum, a familiar plate is flagged
#: with probability about 1 / (n + 1), here 0.4 %.
VAL_FLAG_RATE = 0.0


@dataclass(frozen=True)
class UnfamiliarStats:
    """What the graph needs: feature mean (D,), projection (D, k), class means (C, k)."""

    stages: int  # how many of forward_intermediates' stages feed the score (from the first)
    mean: np.ndarray
    projection: np.ndarray
    class_means: np.ndarray

    @property
    def dims(self) -> int:
        return int(self.projection.shape[1])

    def score(self, features: np.ndarray) -> np.ndarray:
        """(N, D) features -> (N,) scores, in numpy (the graph computes the same)."""
        w = (np.asarray(features, np.float64) - self.mean) @ self.projection
        d = ((w[:, None, :] - self.class_means[None]) ** 2).sum(-1)
        return d.min(axis=1) / self.dims


def fit_statistics(
    features: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    stages: int = 0,
    max_dims: int = MAX_DIMS,
    shrinkage: float = SHRINKAGE,
) -> UnfamiliarStats:
    """Fit on training features (N, D) and each image's class index (N,).

    Classes with no image get no mean (they cannot make a plate look familiar).
    """
    x = np.asarray(features, np.float64)
    labels = np.asarray(labels)
    present = [c for c in range(n_classes) if (labels == c).any()]
    if len(x) <= len(present) + 1 or not present:
        raise ModelError(f"too few training images ({len(x)}) to fit the unfamiliar score")
    mu = x.mean(0)
    means = np.stack([x[labels == c].mean(0) for c in present])
    resid = x - means[np.searchsorted(present, labels)]
    cov = resid.T @ resid / (len(x) - len(present))
    lam, vec = np.linalg.eigh(cov)  # ascending
    k = min(max_dims, len(lam))
    lam, vec = lam[-k:], vec[:, -k:]
    projection = vec / np.sqrt(np.maximum(lam, 0) + shrinkage * max(float(lam.mean()), 1e-12))
    return UnfamiliarStats(
        stages=stages,
        mean=mu.astype(np.float32),
        projection=projection.astype(np.float32),
        class_means=((means - mu) @ projection).astype(np.float32),
    )


def choose_threshold(val_scores: np.ndarray, flag_rate: float = VAL_FLAG_RATE) -> float:
    """The score that flags ``flag_rate`` of the validation plates (NaN scores count as flagged).

    >>> choose_threshold(np.arange(1, 101, dtype=float), 0.05)
    95.05
    """
    s = np.asarray(val_scores, np.float64)
    s = s[np.isfinite(s)]
    if not len(s):
        raise ModelError("no finite validation scores to choose the unfamiliar threshold on")
    return round(float(np.quantile(s, 1.0 - flag_rate)), 6)


def card_entry(stats: UnfamiliarStats, threshold: float, fitted: dict) -> dict:
    """The card's ``unfamiliar`` object (what the graph's second output is and how to read it)."""
    return {
        "output": OUTPUT,
        "method": METHOD,
        "features": f"channel means of the first {stats.stages} backbone stages",
        "feature_dims": int(stats.mean.shape[0]),
        "dims": stats.dims,
        "shrinkage": SHRINKAGE,
        "score": "min over classes of the squared Mahalanobis distance / dims "
        "(about 1 for a training plate; higher = less familiar)",
        "threshold": threshold,
        "threshold_rule": (
            f"the {1 - VAL_FLAG_RATE:.2f} quantile of the validation scores"
            if VAL_FLAG_RATE
            else "the highest validation score"
        ),
        **fitted,
    }
