"""``inspector evaluate``'s numbers and table: pure numpy on labels, probabilities and scores.

>>> y = np.array([[1, 0], [0, 1], [1, 1], [0, 1]])
>>> p = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.3], [0.2, 0.9]])
>>> r = evaluation(y, p, np.array([0, 1, 0, 1]), ("a", "b"), (0.5, 0.5),
...                scores=np.array([1.0, 1.2, 9.0, float("nan")]), score_threshold=3.0)
>>> r["per_class"]["b"]["recall"], r["unfamiliar"]["flagged"], r["second_defects"]["recall"]
(0.666667, 2, 0.0)
"""

from __future__ import annotations

import numpy as np

from inspector import metrics


def _r(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), 6)


def evaluation(
    y: np.ndarray,
    p: np.ndarray,
    primary: np.ndarray,
    classes: tuple[str, ...],
    thresholds: tuple[float, ...],
    scores: np.ndarray | None = None,
    score_threshold: float | None = None,
) -> dict:
    """Per-class AP, precision/recall/F1 at ``thresholds``, ECE; top-1; unfamiliar rate; and,
    when some images carry more than one label, second-defect recall and extra labels.

    ``primary``: each image's main class index (-1 for an image without one: left out of top-1).
    A NaN score counts as flagged.
    """
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    t = np.asarray(thresholds, dtype=np.float64)
    ap = metrics.per_class_ap(y, p)
    prec, rec, f1 = metrics.precision_recall_f1(y, p, t)
    ece = [metrics.expected_calibration_error(y[:, k], p[:, k]) for k in range(len(classes))]
    out: dict = {
        "n_images": len(y),
        "macro_ap": _r(metrics.macro_ap(y, p)) if len(y) else None,
        "mean_ece": _r(float(np.nanmean(ece))) if len(y) else None,
        "per_class": {
            c: {
                "n": int(y[:, k].sum()),
                "ap": _r(ap[k]),
                "precision": _r(prec[k]),
                "recall": _r(rec[k]),
                "f1": _r(f1[k]),
                "ece": _r(ece[k]),
                "threshold": _r(t[k]),
            }
            for k, c in enumerate(classes)
        },
    }
    primary = np.asarray(primary)
    has = primary >= 0
    if has.any():
        wrong = int((np.argmax(p[has], axis=1) != primary[has]).sum())
        out["top1_accuracy"] = _r(1 - wrong / int(has.sum()))
        out["top1_errors"] = wrong
    if scores is not None and score_threshold is not None:
        flagged = ~(np.asarray(scores, np.float64) <= score_threshold)  # NaN: flagged
        out["unfamiliar"] = {
            "threshold": _r(score_threshold),
            "flagged": int(flagged.sum()),
            "rate": _r(flagged.mean()) if len(flagged) else None,
        }
    multi = y.sum(axis=1) > 1
    if multi.any():
        out["second_defects"] = _second_defects(y, p, t, primary, multi)
    return out


def _second_defects(y, p, t, primary, multi) -> dict:
    pred = p >= t
    second = y.astype(bool).copy()
    rows = np.arange(len(y))
    ok = primary >= 0
    second[rows[ok], primary[ok]] = False  # what is left: the labels beside the main one
    found = int((pred & second)[multi].sum())
    wanted = int(second[multi].sum())
    single = (y.sum(axis=1) == 1) & ok
    extra = (pred & ~y.astype(bool))[single].any(axis=1)
    return {
        "images": int(multi.sum()),
        "labels": wanted,
        "found": found,
        "recall": _r(found / wanted) if wanted else None,
        "single_defect_images": int(single.sum()),
        "single_with_extra_labels": int(extra.sum()),
    }


def _f(v: float | None, fmt: str = ".3f") -> str:
    return "  -  " if v is None else format(v, fmt)


def table(report: dict, title: str) -> str:
    """The report as the lines ``inspector evaluate`` prints."""
    width = max(5, *(len(c) for c in report["per_class"]))
    lines = [
        title,
        f"{'class':<{width}}  {'n':>5}  {'AP':>5}  {'prec':>5}  {'rec':>5}  {'F1':>5}  "
        f"{'ECE':>5}  {'thr':>5}",
    ]
    for c, m in report["per_class"].items():
        cells = "  ".join(_f(m[k]) for k in ("ap", "precision", "recall", "f1", "ece"))
        lines.append(f"{c:<{width}}  {m['n']:>5}  {cells}  {_f(m['threshold'])}")
    summary = f"macro AP {_f(report['macro_ap'], '.4f')}   mean ECE {_f(report['mean_ece'], '.4f')}"
    if "top1_accuracy" in report:
        summary += f"   top-1 {report['top1_accuracy']:.4f} ({report['top1_errors']} errors)"
    lines.append(summary)
    u = report.get("unfamiliar")
    if u is None:
        lines.append("unfamiliar plates: this model has no unfamiliar-plate score")
    else:
        lines.append(
            f"unfamiliar plates: {100 * (u['rate'] or 0):.1f} % "
            f"({u['flagged']} of {report['n_images']}; threshold {u['threshold']:g})"
        )
    s = report.get("second_defects")
    if s:
        lines.append(
            f"second defects: recall {_f(s['recall'])} ({s['found']} of {s['labels']} on "
            f"{s['images']} plates); extra labels on single-defect plates: "
            f"{s['single_with_extra_labels']} of {s['single_defect_images']}"
        )
    return "\n".join(lines)
