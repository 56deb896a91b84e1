"""A candidate beside a baseline (the active version) on the same frozen images: metrics and flips.

Both versions are run through ONNX Runtime (what the application deploys) on the same images,
each with its own preprocessing and thresholds. Metrics are computed on the classes both know
(per-class AP / F1, macro AP, top-1 on the first label); the *flip report* lists every image whose
decision (the set of classes over threshold) differs between the two, with the human label, so a
person can open each one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector import metrics
from inspector.imageio import load_image
from inspector.runtime.ort import OrtPredictor
from inspector.store.learning import SnapshotItem

__all__ = ["compare", "predict_items"]


def predict_items(predictor: OrtPredictor, items: list[SnapshotItem]) -> np.ndarray:
    spec = predictor.card.preprocessing
    if not items:
        return np.zeros((0, len(predictor.classes)), np.float32)
    x = np.stack([spec.apply(load_image(i.path)) for i in items])
    return predictor.predict_batch(x)


def _summary(items, probs, classes, thresholds, cols) -> dict:
    y = np.array([[c in i.labels for c in classes] for i in items], dtype=np.float32)
    p = probs[:, cols]
    t = np.array(thresholds)[cols]
    primary = np.array(
        [classes.index(i.labels[0]) if i.labels[0] in classes else -1 for i in items]
    )
    keep = primary >= 0
    out = metrics.summarize(y, p, tuple(classes), t, None)
    out["top1_accuracy"] = metrics.top1_accuracy(primary[keep], p[keep]) if keep.any() else None
    return out


def compare(
    candidate_dir: Path, baseline_dir: Path | None, sets: dict[str, list[SnapshotItem]]
) -> dict:
    """{set name: {candidate, baseline, classes, flips}} for each named list of frozen items."""
    cand = OrtPredictor(candidate_dir, device="cpu")
    base = OrtPredictor(baseline_dir, device="cpu") if baseline_dir is not None else None
    if base is not None and not set(base.classes) & set(cand.classes):
        base = None  # a new product line: nothing to compare class by class
    out: dict = {"baseline": base.version if base else None, "candidate": cand.version}
    for name, items in sets.items():
        items = [i for i in items if i.labels]
        pc = predict_items(cand, items)
        common = [c for c in cand.classes if base is None or c in base.classes]
        entry: dict = {"n_images": len(items), "classes": common}
        if not items:
            out[name] = entry
            continue
        entry["candidate"] = _summary(
            items, pc, common, cand.thresholds, [cand.classes.index(c) for c in common]
        )
        if base is not None:
            pb = predict_items(base, items)
            bcols = [base.classes.index(c) for c in common]
            entry["baseline"] = _summary(items, pb, common, base.thresholds, bcols)
            entry["flips"] = _flips(items, pb, pc, base, cand, common)
        out[name] = entry
    return out


def _decision(p: np.ndarray, pred: OrtPredictor, common: list[str]) -> tuple[str, ...]:
    return tuple(
        c for c in common if p[pred.classes.index(c)] >= pred.thresholds[pred.classes.index(c)]
    )


def _flips(items, pb, pc, base, cand, common) -> list[dict]:
    out = []
    for i, item in enumerate(items):
        before, after = _decision(pb[i], base, common), _decision(pc[i], cand, common)
        if before == after:
            continue
        truth = tuple(c for c in common if c in item.labels)
        out.append(
            {
                "image_id": item.image_id,
                "path": item.path,
                "truth": list(truth),
                "before": list(before),
                "after": list(after),
                "change": "fixed"
                if after == truth
                else ("broken" if before == truth else "changed"),
            }
        )
    return out
