"""Robustness to camera trouble: ``python benchmarks/bench_robustness.py --model DIR [--model DIR2]``.

Scores the NEU-CLS test split (270 plates, ``SPLITS.csv``) clean and under each corruption of
:mod:`inspector.corruptions` (applied to the 200x200 uint8 plate before preprocessing; image i
of the split uses seed i, so every run and every model sees the same corrupted plates), and
prints top-1 accuracy (argmax = the folder's class) and macro AP (NEU-CLS labels) per
condition and model. "average, corrupted" is the mean over the six corrupted conditions
(brighter and darker count separately); the goal is >= 97.5 % top-1 there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.corruptions import CORRUPTIONS, corrupt  # noqa: E402
from inspector.explain.report import split_files  # noqa: E402
from inspector.imageio import load_image  # noqa: E402
from inspector.metrics import macro_ap, top1_accuracy  # noqa: E402
from inspector.registry import default_model_dir  # noqa: E402
from inspector.runtime.ort import OrtPredictor  # noqa: E402

GOAL = 0.975


def evaluate(model_dir: str, plates: list[np.ndarray], labels: list[str]) -> dict:
    pred = OrtPredictor(model_dir, device="cpu")
    spec, classes = pred.card.preprocessing, list(pred.classes)
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        sys.exit(f"bench_robustness: {model_dir} has no class {', '.join(unknown)}")
    truth = np.array([classes.index(c) for c in labels])
    onehot = np.eye(len(classes))[truth]
    out = {"version": pred.version}
    for name in ("clean", *CORRUPTIONS):
        x = np.stack(
            [
                spec.apply(p if name == "clean" else corrupt(name, p, seed=i))
                for i, p in enumerate(plates)
            ]
        )
        probs = pred.predict_batch(x, batch_size=30)
        out[name] = (top1_accuracy(truth, probs), macro_ap(onehot, probs))
    out["average, corrupted"] = tuple(
        float(np.mean([out[c][k] for c in CORRUPTIONS])) for k in (0, 1)
    )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", metavar="DIR", help="model folder (repeatable)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/neu-cls"))
    ap.add_argument("--split", default="test")
    args = ap.parse_args()
    models = args.model or [str(default_model_dir())]
    files = split_files(Path(args.data), args.split)
    plates = [load_image(f) for f, _ in files]
    labels = [c for _, c in files]
    results = [evaluate(m, plates, labels) for m in models]

    print(f"NEU-CLS {args.split} split, {len(files)} plates; top-1 (errors) / macro AP\n")
    print("| condition | " + " | ".join(r["version"] for r in results) + " |")
    print("|---|" + "---|" * len(results))
    for name in ("clean", *CORRUPTIONS, "average, corrupted"):
        cells = []
        for r in results:
            top1, mac = r[name]
            errs = "" if name.startswith("average") else f" ({round((1 - top1) * len(files))})"
            cells.append(f"{top1 * 100:.2f} %{errs} / {mac:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    for r in results:
        avg = r["average, corrupted"][0]
        verdict = "meets" if avg >= GOAL else "misses"
        print(
            f"\n{r['version']}: average corrupted top-1 {avg * 100:.2f} % {verdict} "
            f"the {GOAL * 100:.1f} % goal"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
