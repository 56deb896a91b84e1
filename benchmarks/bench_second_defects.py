"""How much second-defect evidence a model's features hold: a linear probe, one table.

    python benchmarks/bench_second_defects.py [--model DIR] [--data NEU] [--boxes NEU-DET]

Issue 16 asks for >= 80 % of the NEU-DET second defects found on the test split with <= 1 % of
single-defect plates given an extra label, at top-1 >= 99.63 %. The shipped model is trained on
the NEU-CLS labels and finds none; this asks whether the evidence is in its features at all. Per
class, a logistic regression on the frozen backbone features of the training split (average- or
max-pooled last feature map, standardised) against the box labels (folder class plus every
boxed class), and one per cell of the last feature map against the cell's share inside the
class's boxes (an image scoring its most confident cell); thresholds per class by best F1 on
the validation split; scored on the test split
like ``inspector evaluate``: top-1 against the folder label, second-defect recall and the share
of single-defect plates given any extra label. The first row is the model's own head.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def features(model, spec, items, boxes: Path, classes: list[str]) -> dict[str, np.ndarray]:
    import torch

    from inspector.imageio import load_image
    from inspector.voc import box_mask, det_xml_for, read_sized_boxes

    x = torch.from_numpy(np.stack([spec.apply(load_image(i.path)) for i in items]))
    maps, logits = [], []
    with torch.no_grad():
        for j in range(0, len(x), 64):
            f = model.forward_features(x[j : j + 64])
            maps.append(f.numpy())
            logits.append(model.forward_head(f).numpy())
    fmap = np.concatenate(maps)  # (N, D, h, w)
    n, _, h, w = fmap.shape
    primary = np.array([i.primary for i in items])
    y = np.zeros((n, len(classes)))
    cover = np.zeros((n, len(classes), h, w))  # share of each map cell inside the class's boxes
    for k, item in enumerate(items):
        y[k, primary[k]] = 1
        xml = det_xml_for(Path(item.path), boxes)
        size, bxs = read_sized_boxes(xml) if xml else ((0, 0), [])
        for name in {b.label for b in bxs}:
            c = classes.index(name)
            y[k, c] = 1
            m = box_mask((h * 40, w * 40), [b for b in bxs if b.label == name], size)
            cover[k, c] = m.reshape(h, 40, w, 40).mean((1, 3))
        if not bxs:
            cover[k, primary[k]] = 1.0
    return {
        "avg": fmap.mean((2, 3)),
        "max": fmap.max((2, 3)),
        "cells": fmap.transpose(0, 2, 3, 1).reshape(n * h * w, -1),
        "cover": cover.transpose(0, 2, 3, 1).reshape(n * h * w, -1),
        "logits": np.concatenate(logits),
        "y": y,
        "primary": primary,
    }


def score(p: np.ndarray, d: dict, thresholds: np.ndarray) -> tuple[float, int, int, float]:
    """(top-1, second defects found, second defects, share of single-defect plates with extra)."""
    n = np.arange(len(p))
    second = d["y"].copy()
    second[n, d["primary"]] = 0
    labelled = p >= thresholds
    labelled[n, d["primary"]] = False
    single = second.sum(1) == 0
    found = int((labelled & (second > 0)).sum())
    return (
        float((p.argmax(1) == d["primary"]).mean()),
        found,
        int(second.sum()),
        float(labelled[single].any(1).mean()),
    )


def f1_thresholds(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(p.shape[1], 0.5)
    grid = np.linspace(0.05, 0.95, 91)
    for k in range(p.shape[1]):
        pos = y[:, k] > 0
        f1 = [2 * (p[pos, k] >= t).sum() / max((p[:, k] >= t).sum() + pos.sum(), 1) for t in grid]
        out[k] = grid[int(np.argmax(f1))]
    return out


def main() -> int:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from inspector.metrics import sigmoid
    from inspector.runtime.torch_model import load_torch_model
    from inspector.training.data import read_neu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "default")
    ap.add_argument("--data", type=Path, default=SHARED / "neu-cls")
    ap.add_argument("--boxes", type=Path, default=SHARED / "neu-det-annotations")
    args = ap.parse_args()
    if not (args.data.is_dir() and args.boxes.is_dir()):
        print("this benchmark needs the NEU-CLS plates and the NEU-DET boxes")
        return 2
    model, card = load_torch_model(args.model)
    model.eval()
    classes = list(card.classes)
    ds = read_neu(args.data)
    d = {
        s: features(model, card.preprocessing, ds.split(s), args.boxes, classes)
        for s in ("train", "val", "test")
    }
    print(f"model {card.version}; test split, second defects against NEU-DET boxes")
    print("| scorer | top-1 | second defects found | single-defect plates with an extra label |")
    print("|---|---|---|---|")

    def line(name: str, p: np.ndarray, thresholds: np.ndarray) -> None:
        top1, found, total, extra = score(p, d["test"], thresholds)
        print(f"| {name} | {100 * top1:.2f} % | {found} of {total} | {100 * extra:.1f} % |")

    line(
        "the model's head, card thresholds", sigmoid(d["test"]["logits"]), np.array(card.thresholds)
    )
    for pool in ("avg", "max"):
        scaler = StandardScaler().fit(d["train"][pool])
        for c in (0.01, 0.1):
            probs = {s: np.zeros_like(d[s]["y"]) for s in d}
            for k in range(len(classes)):
                m = LogisticRegression(C=c, max_iter=2000)
                m.fit(scaler.transform(d["train"][pool]), d["train"]["y"][:, k])
                for s in d:
                    probs[s][:, k] = m.predict_proba(scaler.transform(d[s][pool]))[:, 1]
            thr = f1_thresholds(probs["val"], d["val"]["y"])
            line(f"linear probe, {pool}-pooled features, C={c}", probs["test"], thr)
    # per cell of the last feature map, against the share of the cell inside the class's boxes
    # (>= 0.3 counts as present); an image's score is its most confident cell
    scaler = StandardScaler().fit(d["train"]["cells"])
    cells = {s: scaler.transform(d[s]["cells"]) for s in d}
    probs = {s: np.zeros_like(d[s]["y"]) for s in d}
    for k in range(len(classes)):
        m = LogisticRegression(C=0.001, max_iter=500)
        m.fit(cells["train"], (d["train"]["cover"][:, k] >= 0.3).astype(int))
        for s in d:
            probs[s][:, k] = m.predict_proba(cells[s])[:, 1].reshape(len(d[s]["y"]), -1).max(1)
    thr = f1_thresholds(probs["val"], d["val"]["y"])
    line("per-cell probe on the last feature map, max over cells, C=0.001", probs["test"], thr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
