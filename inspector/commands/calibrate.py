"""``inspector calibrate MODEL_DIR --data NEU_FOLDER --out NEW_DIR``: retrofit trust to a version.

Without retraining: fits per-class temperatures on the validation split and folds them into
the head, retunes the thresholds on the calibrated validation probabilities, fits the
unfamiliar-plate statistics on the training split, re-evaluates val (and test) and writes a new
version folder whose ONNX graph has both outputs (``logits``, ``unfamiliar``). The same step
runs at the end of every training run (:func:`inspector.trust.fit.fit_trust`).

``--data`` is the folder the version was trained on (class sub-folders; its SPLITS.csv, when
present, gives train/val/test; otherwise a seeded 15 % validation split is drawn).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="add calibrated probabilities and the unfamiliar-plate score to a model version",
    )
    p.add_argument("model", type=Path, metavar="MODEL_DIR", help="model version folder")
    p.add_argument("--data", type=Path, required=True, help="labelled folder (NEU layout)")
    p.add_argument("--out", type=Path, required=True, help="new model version folder")
    p.add_argument("--boxes", type=Path, help="NEU-DET VOC boxes: second defects as labels")
    p.add_argument("--version", help="new version id (default: MODEL's version + '-cal')")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.training.retrofit import retrofit

    result = retrofit(
        args.model,
        args.data,
        args.out,
        boxes=args.boxes,
        version=args.version,
        device=args.device,
    )
    cal, unf = result.card.calibration, result.card.unfamiliar
    temps = ", ".join(
        f"{c} {t:g}" for c, t in zip(result.card.classes, cal["temperatures"], strict=True)
    )
    print(f"wrote {result.card.version} to {result.model_dir}")
    print(f"  temperatures: {temps}")
    print(
        f"  validation ECE (mean over classes): {cal['val_mean_ece_before']:.4f} -> "
        f"{cal['val_mean_ece_after']:.4f}; BCE {cal['val_bce_before']:.5f} -> "
        f"{cal['val_bce_after']:.5f}"
    )
    print(
        f"  unfamiliar: threshold {unf['threshold']:g} ({unf['dims']} dims), "
        f"{100 * unf['val_flagged']:.1f} % of validation plates flagged"
    )
    test = result.card.metrics.get("test")
    if test:
        print(f"  test: macro AP {test['macro_ap']:.4f}, top-1 {test.get('top1_accuracy', 0):.4f}")
    print(f"  folder size {result.size_bytes / 2**20:.2f} MiB; parity {result.parity:.1e}")
    return 0
