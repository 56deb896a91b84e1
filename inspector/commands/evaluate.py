"""``inspector evaluate``: how good a model version is on labelled plates, as a table or JSON.

    inspector evaluate FOLDER [--split test] [--boxes VOC_DIR] [--model DIR] [--json]
    inspector evaluate --workspace W [--model DIR] [--json]

FOLDER has one sub-folder per class (the NEU layout; with SPLITS.csv, ``--split`` picks a split,
``test`` by default; without one every image is used). ``--boxes`` adds the NEU-DET second
defects as extra labels, and the report then says how many of them the model finds and how
many single-defect plates get a label they do not have. ``--workspace`` uses the people's
labels in a workspace instead. Reports per-class AP, precision/recall/F1 at the card's
thresholds, ECE per class, top-1, and the unfamiliar-plate rate. The sibling of
``inspector explain --report``; scores through ONNX Runtime, as the application does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="metrics of a model version on labelled plates")
    p.add_argument("folder", nargs="?", type=Path, metavar="FOLDER", help="class sub-folders")
    p.add_argument(
        "--workspace",
        default=argparse.SUPPRESS,
        metavar="DIR",
        help="use the human labels of this workspace instead of a folder",
    )
    p.add_argument("--split", help="with SPLITS.csv: which split (default: test)")
    p.add_argument("--boxes", type=Path, metavar="DIR", help="NEU-DET VOC boxes: extra labels")
    p.add_argument("--model", metavar="DIR", help="model version (default: the shipped model)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=run)


def _folder_items(args, classes: tuple[str, ...]) -> tuple[list, str]:
    """(path, label names, primary name) per image of FOLDER, and a description."""
    from inspector.domain import DatasetError
    from inspector.training.data import read_imagefolder

    root: Path = args.folder
    if args.boxes is not None and not args.boxes.is_dir():
        raise DatasetError(f"{args.boxes}: boxes folder not found")
    has_splits = (root / "SPLITS.csv").is_file()
    if args.split and not has_splits:
        raise DatasetError(f"{root}: --split needs a SPLITS.csv in the folder")
    ds = read_imagefolder(root, boxes=args.boxes)
    unknown = [c for c in ds.classes if c not in classes]
    if unknown:
        raise DatasetError(
            f"{root}: class folder {unknown[0]!r} is not one of the model's classes "
            f"({', '.join(classes)})"
        )
    split = (args.split or "test") if has_splits else None
    samples = ds.split(split) if split else ds.samples
    if not samples:
        raise DatasetError(f"{root}: no images in the {split!r} split")
    items = [
        (s.path, tuple(ds.classes[k] for k in sorted(s.labels)), ds.classes[s.primary])
        for s in samples
    ]
    where = f"the {split} split of {root}" if split else str(root)
    return items, where + (" (+ NEU-DET boxes)" if args.boxes else "")


def _workspace_items(workspace: str) -> tuple[list, str]:
    import os

    from inspector.domain import DatasetError
    from inspector.store import LabelStore

    with LabelStore.open(workspace, read_only=True, create=False) as store:
        rows, _ = store.learning_sources()
    items = [
        (path, tuple(labels), labels[0] if labels else None)
        for _, path, _, labels, bad in rows
        if not bad and os.path.isfile(path)
    ]
    if not items:
        raise DatasetError(f"{workspace}: no labelled images whose files are on disk")
    return items, f"the human labels of workspace {workspace}"


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from inspector.domain import DatasetError, ImageLoadError
    from inspector.registry import default_model_dir
    from inspector.runtime.ort import OrtPredictor
    from inspector.trust.report import evaluation, table

    workspace = getattr(args, "workspace", None)
    if (args.folder is None) == (workspace is None):
        raise DatasetError("give a labelled FOLDER or --workspace DIR (one of them)")
    predictor = OrtPredictor(args.model or default_model_dir(), device=args.device)
    classes = predictor.classes
    items, where = _workspace_items(workspace) if workspace else _folder_items(args, classes)
    known = [(p, [c for c in ls if c in classes], m) for p, ls, m in items]
    by_path = {str(p): (ls, m) for p, ls, m in known}
    rows, failed = [], 0
    for result in predictor.predict_paths([p for p, _, _ in known]):
        if isinstance(result, ImageLoadError):
            print(f"inspector evaluate: {result}", file=sys.stderr)
            failed += 1
            continue
        rows.append((result, *by_path[result.path]))
    if not rows:
        raise DatasetError(f"no image of {where} could be scored")
    y = np.array([[c in ls for c in classes] for _, ls, _ in rows], dtype=np.float64)
    p = np.array([r.probabilities for r, _, _ in rows])
    primary = np.array([classes.index(m) if m in classes else -1 for _, _, m in rows])
    scores = None
    if predictor.unfamiliar_threshold is not None:
        scores = np.array([np.nan if r.unfamiliar is None else r.unfamiliar for r, _, _ in rows])
    report = evaluation(
        y, p, primary, classes, predictor.thresholds, scores, predictor.unfamiliar_threshold
    )
    report.update(model=predictor.version, data=where, failed=failed)
    if args.json:
        print(json.dumps(report, allow_nan=False))
    else:
        title = f"model {predictor.version} on {len(rows)} images: {where}"
        print(table(report, title))
    if failed:
        print(f"inspector evaluate: {failed} image(s) could not be read", file=sys.stderr)
    return 0
