"""Classification metrics in pure numpy (checked against scikit-learn in the tests).

Conventions: ``y`` is an (N, K) 0/1 target matrix, ``p`` an (N, K) matrix of probabilities.

>>> import numpy as np
>>> average_precision(np.array([1, 0, 1]), np.array([0.9, 0.2, 0.6]))
1.0
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-7


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logits -> probabilities, without overflow for large |z|; float32 stays float32.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    z = np.asarray(z)
    # Split by sign so exp() only ever sees non-positive arguments and never overflows.
    out = np.empty_like(z, dtype=np.result_type(z, np.float32))
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _ranked(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative TP/FP at each distinct score threshold, scores descending (ties grouped)."""
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[distinct]
    fps = (distinct + 1) - tps
    return tps.astype(np.float64), fps.astype(np.float64), s[distinct]


def average_precision(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the step precision-recall curve (scikit-learn's definition); NaN if no positive."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    if not y.any():
        return float("nan")
    tps, fps, _ = _ranked(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Area under the ROC curve (trapezoidal, ties handled); NaN if only one class is present."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    if y.all() or not y.any():
        return float("nan")
    tps, fps, _ = _ranked(y, s)
    tpr = np.r_[0.0, tps / tps[-1]]
    fpr = np.r_[0.0, fps / fps[-1]]
    return float(np.trapezoid(tpr, fpr))


def pr_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, thresholds) as scikit-learn's ``precision_recall_curve`` returns them
    (``drop_intermediate=False``): thresholds ascending, a last point (precision 1, recall 0)."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    tps, fps, thr = _ranked(y, s)
    ps = tps + fps
    precision = np.divide(tps, ps, out=np.zeros_like(tps), where=ps != 0)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thr[::-1]


def roc_curve(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) as scikit-learn's ``roc_curve(drop_intermediate=False)``: starts at
    (0, 0) with threshold inf; NaN rates when a side has no samples."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(s, dtype=np.float64).ravel()
    tps, fps, thr = _ranked(y, s)
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    fpr = fps / fps[-1] if fps[-1] > 0 else np.full(fps.shape, np.nan)
    tpr = tps / tps[-1] if tps[-1] > 0 else np.full(tps.shape, np.nan)
    return fpr, tpr, np.r_[np.inf, thr]


def per_class_ap(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.array([average_precision(y[:, k], p[:, k]) for k in range(y.shape[1])])


def per_class_auc(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.array([roc_auc(y[:, k], p[:, k]) for k in range(y.shape[1])])


def macro_ap(y: np.ndarray, p: np.ndarray) -> float:
    """Mean AP over the classes that have at least one positive."""
    ap = per_class_ap(y, p)
    return float(np.nanmean(ap)) if np.isfinite(ap).any() else float("nan")


def precision_recall_f1(
    y: np.ndarray, p: np.ndarray, thresholds: np.ndarray | float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 with predictions ``p >= threshold`` (0 where undefined)."""
    pred = p >= np.asarray(thresholds)
    y = y.astype(bool)
    tp = (pred & y).sum(0).astype(np.float64)
    fp = (pred & ~y).sum(0)
    fn = (~pred & y).sum(0)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1


def top1_accuracy(true_index: np.ndarray, p: np.ndarray) -> float:
    """Single-label accuracy: the most probable class equals the image's (folder) class."""
    return float(np.mean(np.argmax(p, axis=1) == np.asarray(true_index)))


def confusion_matrix(true_index: np.ndarray, pred_index: np.ndarray, n_classes: int) -> np.ndarray:
    """Rows = true class, columns = predicted class."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(true_index), np.asarray(pred_index)), 1)
    return cm


def per_image_bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Mean binary cross-entropy over classes, per image (the top-loss ranking key)."""
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    y = np.asarray(y, dtype=np.float64)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p)).mean(axis=1)


def best_f1_thresholds(y: np.ndarray, p: np.ndarray, default: float = 0.5) -> np.ndarray:
    """Per class, the threshold that maximises F1 on (y, p).

    The threshold is put midway between the chosen score and the next lower one, so a new image
    scoring a little below the weakest validation positive is not cut off by accident.
    """
    out = np.full(y.shape[1], default, dtype=np.float64)
    for k in range(y.shape[1]):
        yk, sk = y[:, k].astype(bool), p[:, k].astype(np.float64)
        if not yk.any():
            continue
        tps, fps, thr = _ranked(yk, sk)
        f1 = 2 * tps / (tps + fps + tps[-1])
        i = int(np.argmax(f1))
        lower = thr[i + 1] if i + 1 < len(thr) else 0.0
        out[k] = float(np.clip((thr[i] + lower) / 2, 0.01, 0.99))
    return out


def reliability(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One class's reliability diagram: per equal-width probability bin, (mean predicted
    probability, observed frequency of the class, count); empty bins give NaN and count 0.

    >>> conf, freq, n = reliability(np.array([0, 1, 1, 1]), np.array([0.1, 0.9, 0.9, 0.7]), 2)
    >>> conf.round(3).tolist(), freq.tolist(), n.tolist()
    ([0.1, 0.833], [0.0, 1.0], [1, 3])
    """
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    idx = np.clip((p * bins).astype(int), 0, bins - 1)
    n = np.bincount(idx, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        conf = np.bincount(idx, weights=p, minlength=bins) / n
        freq = np.bincount(idx, weights=y, minlength=bins) / n
    return conf, freq, n


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """One class's ECE: the count-weighted mean |observed frequency - mean probability| over
    equal-width bins (0 = "0.8" means right four times in five, at every level).

    >>> expected_calibration_error(np.array([0, 1, 1, 1]), np.array([0.1, 0.9, 0.9, 0.7]), 2)
    0.15
    """
    conf, freq, n = reliability(y, p, bins)
    if n.sum() == 0:
        return float("nan")
    used = n > 0
    return round(float((n[used] * np.abs(freq[used] - conf[used])).sum() / n.sum()), 6)


def summarize(
    y: np.ndarray,
    p: np.ndarray,
    classes: tuple[str, ...],
    thresholds: np.ndarray,
    true_index: np.ndarray | None = None,
) -> dict:
    """A JSON-ready metrics dict for a model card or a training event."""
    ap, auc = per_class_ap(y, p), per_class_auc(y, p)
    prec, rec, f1 = precision_recall_f1(y, p, thresholds)
    out: dict = {
        "n_images": len(y),
        "macro_ap": macro_ap(y, p),
        "mean_bce": float(per_image_bce(y, p).mean()) if len(y) else float("nan"),
        "per_class": {
            c: {
                "ap": _f(ap[k]),
                "roc_auc": _f(auc[k]),
                "precision": _f(prec[k]),
                "recall": _f(rec[k]),
                "f1": _f(f1[k]),
                "threshold": _f(thresholds[k]),
            }
            for k, c in enumerate(classes)
        },
    }
    if true_index is not None:
        pred = np.argmax(p, axis=1)
        out["top1_accuracy"] = top1_accuracy(true_index, p)
        out["top1_errors"] = int((pred != true_index).sum())
        out["confusion"] = confusion_matrix(true_index, pred, len(classes)).tolist()
    return out


def _f(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 6)
