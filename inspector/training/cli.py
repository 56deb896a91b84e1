"""Arguments and entry point of ``inspector train`` / ``python -m inspector.training``.

Events go to stdout as JSON lines (one object per line, flushed) so the GUI's QProcess runner
can follow progress; anything human-readable goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument(
        "--data",
        required=True,
        type=Path,
        help="ImageFolder tree (a folder per class), optionally with SPLITS.csv (NEU layout)",
    )
    g.add_argument(
        "--boxes",
        type=Path,
        help="Pascal VOC XML folder: classes boxed in an image become extra labels",
    )
    g.add_argument("--out", required=True, type=Path, help="run folder (checkpoints/, model/)")
    m = p.add_argument_group("model")
    m.add_argument("--arch", default="mobilenetv3_small_100", help="timm architecture name")
    m.add_argument("--size", type=int, default=200, help="input size in pixels (square)")
    m.add_argument(
        "--pretrained",
        default="auto",
        help="'auto' (installed package or timm cache, else scratch), 'none', or a weights file",
    )
    m.add_argument("--teacher", type=Path, help="model version folder to distil from")
    m.add_argument("--distill-weight", type=float, default=0.5)
    o = p.add_argument_group("optimisation")
    o.add_argument("--epochs", type=int, default=60)
    o.add_argument("--batch-size", type=int, default=32)
    o.add_argument("--lr", type=float, default=3e-3)
    o.add_argument("--weight-decay", type=float, default=0.02)
    o.add_argument("--warmup-epochs", type=float, default=2.0)
    o.add_argument(
        "--patience", type=int, default=15, help="epochs without val improvement before stopping"
    )
    o.add_argument("--aug-strength", type=float, default=1.0, help="0 = no augmentation")
    o.add_argument(
        "--secondary-target",
        type=float,
        default=0.9,
        help="target for boxed classes other than the folder class (keeps top-1 meaningful)",
    )
    o.add_argument(
        "--max-minutes", type=float, help="stop after this wall time (best checkpoint is kept)"
    )
    r = p.add_argument_group("run")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    r.add_argument("--threads", type=int, help="torch CPU threads (default: all cores)")
    r.add_argument("--version", help="model version id (default: neu-<UTC timestamp>)")
    r.add_argument("--parent", help="version this one was fine-tuned from")
    r.add_argument(
        "--half-weights",
        action="store_true",
        help="round weights to float16 before evaluation and export (half the file size)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.training.loop import TrainConfig, train

    cfg = TrainConfig(
        **{k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__}
    )
    args.out.mkdir(parents=True, exist_ok=True)
    # The resolved configuration is saved beside the run, as timm's train.py does.
    (args.out / "config.json").write_text(
        json.dumps(
            {k: str(v) if isinstance(v, Path) else v for k, v in vars(cfg).items()}, indent=2
        )
        + "\n"
    )
    try:
        for event in train(cfg):
            print(json.dumps(event), flush=True)
    except Exception as exc:
        print(
            json.dumps({"event": "error", "message": str(exc), "type": type(exc).__name__}),
            flush=True,
        )
        raise
    return 0


def main(argv: list[str] | None = None) -> int:
    from inspector.domain import InspectorError

    parser = argparse.ArgumentParser(
        prog="python -m inspector.training", description="Train a model version."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except InspectorError as exc:
        print(f"inspector train: error: {exc}", file=sys.stderr)
        return 2
