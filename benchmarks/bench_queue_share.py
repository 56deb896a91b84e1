"""How much of a line's output the low-confidence rule sends to supervisors, one table.

    .venv/bin/python benchmarks/bench_queue_share.py [--model DIR] [--data NEU-CLS]

Scores every plate of the folder with the model version (the product's ONNX session) and
counts the plates whose prediction is doubtful (:func:`inspector.store.scoring.doubt` <= 1)
under the store's rule (bands in log-odds) and under the probability-gap rule it replaced
(±0.1 around a threshold, 0.2 when no class passes), with the misclassified plates (top class
not the folder class) each rule catches. A queue that holds a fifth of the plates is one a
supervisor stops reading.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def probability_gap_doubt(probs: Sequence[float], thresholds: Sequence[float]) -> float:
    """The rule before log-odds bands: |p - t| / 0.1, or (t - p) / 0.2 when nothing passes."""
    gaps = [p - t for p, t in zip(probs, thresholds, strict=True)]
    d = min(abs(g) for g in gaps) / 0.1
    return min(d, -max(gaps) / 0.2) if max(gaps) < 0 else d


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    ap.add_argument("--data", default=str(SHARED / "neu-cls"), help="a folder per class")
    args = ap.parse_args()
    data = Path(args.data)
    if not data.is_dir():
        print(f"{data}: no such folder (the NEU-CLS data lives in ../shared)")
        return 2
    from inspector.runtime.ort import OrtPredictor
    from inspector.store.predictions import DEFAULT_BAND, DEFAULT_NONE_OVER_BAND
    from inspector.store.scoring import doubt

    pred = OrtPredictor(args.model, threads=2)
    paths = sorted(p for p in data.glob("*/*") if p.parent.name in pred.classes)
    rules = {
        f"log-odds bands {DEFAULT_BAND} / {DEFAULT_NONE_OVER_BAND} (the store's)": lambda p, t: (
            doubt(p, t, band=DEFAULT_BAND, none_over_band=DEFAULT_NONE_OVER_BAND)
        ),
        "probability gap 0.1 / 0.2 (before)": probability_gap_doubt,
    }
    counts = {name: [0, 0] for name in rules}
    wrong = 0
    for path, p in zip(paths, pred.predict_paths(paths), strict=True):
        if isinstance(p, Exception):
            print(f"{path}: {p}")
            continue
        top = max(range(len(p.probabilities)), key=lambda k: p.probabilities[k])
        miss = pred.classes[top] != path.parent.name
        wrong += miss
        for name, rule in rules.items():
            if rule(p.probabilities, p.thresholds) <= 1:
                counts[name][0] += 1
                counts[name][1] += miss
    print(f"{pred.version} on {len(paths)} plates of {data} ({wrong} misclassified)\n")
    print("| rule | plates in the queue | misclassified plates caught |")
    print("|---|---|---|")
    for name, (n, caught) in counts.items():
        print(f"| {name} | {n} ({100 * n / len(paths):.1f} %) | {caught} of {wrong} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
