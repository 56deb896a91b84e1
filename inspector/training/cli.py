"""Arguments and entry point of ``inspector train`` / ``python -m inspector.training``.

The options come from :class:`~inspector.training.config.TrainConfig` (its fields are the one
source of defaults and help). Events go to stdout as JSON lines (one object per line, flushed),
so a caller such as a GUI process runner can follow progress; anything human-readable goes to
stderr. The last line is ``{"event": "done", ...}`` or ``{"event": "error", ...}``.
"""

from __future__ import annotations

import argparse
import sys

from inspector.training.config import add_arguments, from_args

__all__ = ["add_arguments", "main", "run"]


def _emit(event) -> None:
    print(event.to_json(), flush=True)


def run(args: argparse.Namespace) -> int:
    """Train with the parsed arguments, printing each event as a JSON line; 0 on success."""
    from inspector import atomic, jobs
    from inspector.training.events import Error
    from inspector.training.loop import train

    cfg = from_args(args)
    cfg.out.mkdir(parents=True, exist_ok=True)
    # The resolved configuration is saved beside the run, as timm's train.py does.
    atomic.write_json(cfg.out / "config.json", cfg.to_json_dict())
    try:
        done = jobs.run(train(cfg), on_partial=_emit)
    except Exception as exc:
        _emit(Error(message=str(exc), type=type(exc).__name__))
        raise
    _emit(done)
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
