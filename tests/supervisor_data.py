"""A small store with known predictions and labels for the supervisors' views (no images)."""

from __future__ import annotations

import numpy as np

from inspector.domain import NEU_CLASSES, Prediction

MODEL = "m1"


def seed(store, n: int = 40, seed: int = 0, model: str = MODEL) -> dict[str, tuple]:
    """``n`` plates with an active model's predictions; labelled by ana (even) and bob (odd).

    Every plate has one true class; the model is right with a margin on most, and within the
    0.1 band of the 0.5 threshold on every fifth plate (those are the doubtful decisions).
    Returns {path: probabilities}.
    """
    rng = np.random.default_rng(seed)
    store.register_model(model, classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    probs: dict[str, tuple] = {}
    for i in range(n):
        k = i % 6
        p = rng.uniform(0.01, 0.2, 6)
        p[k] = rng.uniform(0.75, 0.99)
        if i % 5 == 0:
            p[k] = 0.5 + rng.uniform(-0.08, 0.08)
        path = f"/plates/p{i:03d}.bmp"
        probs[path] = tuple(float(x) for x in p)
    store.add_predictions(
        (Prediction(path, NEU_CLASSES, p, (0.5,) * 6, model) for path, p in probs.items()),
        add_images=True,
    )
    for i, path in enumerate(probs):
        store.set_labels(path, [NEU_CLASSES[i % 6]], user="ana" if i % 2 == 0 else "bob")
    return probs
