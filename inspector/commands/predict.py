"""``inspector predict FILES_OR_FOLDERS... [--json] [--model DIR]``.

Prints per-class probabilities and the labels over threshold for each image, and says
"unfamiliar plate" when the model's unfamiliar-plate score flags it (``--json``: ``unfamiliar``,
``unfamiliar_threshold``, ``is_unfamiliar``; null/false for a model without the score). A bad file is
reported on stderr with its reason and the rest continue; the exit code is 1 when any file failed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from inspector.commands.argtypes import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict defect probabilities for images or folders")
    p.add_argument("paths", nargs="+", metavar="FILE_OR_FOLDER")
    p.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    p.add_argument(
        "--model", metavar="DIR", help="model version folder (default: the shipped model)"
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector import jobs
    from inspector.domain import NO_DEFECT, ImageLoadError
    from inspector.imageio import scan_image_files
    from inspector.registry import default_model_dir
    from inspector.runtime.ort import OrtPredictor
    from inspector.runtime.scoring import score_files

    predictor = OrtPredictor(args.model or default_model_dir(), device=args.device)
    print(
        f"model {predictor.version} on {predictor.device} ({predictor.device_reason})",
        file=sys.stderr,
    )
    scan = scan_image_files(args.paths)
    files = scan.files
    for problem in scan.problems:  # dangling links, unlistable folders...: one line each
        print(f"inspector predict: {problem}", file=sys.stderr)
    total = len(files) + len(scan.problems)
    if not files:
        print("inspector predict: no image files found", file=sys.stderr)
        return 1
    width = max(len(c) for c in predictor.classes)

    def show(result) -> None:
        if isinstance(result, ImageLoadError):
            print(f"inspector predict: {result}", file=sys.stderr)
        elif args.json:
            print(json.dumps(_as_json(result), allow_nan=False), flush=True)  # NaN is not JSON
        else:
            flag = " (unfamiliar plate: labels may be wrong)" if result.is_unfamiliar else ""
            print(f"{result.path}: {', '.join(result.labels) or NO_DEFECT}{flag}")
            for c, p, t in zip(
                result.classes, result.probabilities, result.thresholds, strict=True
            ):
                mark = "*" if p >= t else " "
                print(f"  {mark} {c:<{width}} {p:7.4f}  (threshold {t:.3f})")

    summary = jobs.run(score_files(predictor, files, args.batch_size), on_partial=show)
    failed = summary.failed + len(scan.problems)
    if failed:
        print(f"inspector predict: {failed} of {total} file(s) failed", file=sys.stderr)
    return 1 if failed else 0


def _as_json(result) -> dict:
    return {
        "path": result.path,
        "labels": list(result.labels),
        "probabilities": {
            c: round(p, 6) for c, p in zip(result.classes, result.probabilities, strict=True)
        },
        "thresholds": dict(zip(result.classes, result.thresholds, strict=True)),
        "model_version": result.model_version,
        # null when the model has no unfamiliar-plate score (or it is NaN: then flagged)
        "unfamiliar": _finite_or_none(result.unfamiliar),
        "unfamiliar_threshold": result.unfamiliar_threshold,
        "is_unfamiliar": result.is_unfamiliar,
    }


def _finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else round(v, 6)
