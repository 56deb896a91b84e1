"""``inspector train``: from a folder (:mod:`inspector.training.cli`) or, with ``--workspace``,
fine-tuning the workspace's model on its labels (:mod:`inspector.loop.cli`)."""

from __future__ import annotations

import argparse
from dataclasses import MISSING, fields


def register(sub: argparse._SubParsersAction) -> None:
    from inspector.loop.config import add_workspace_arguments
    from inspector.training.cli import add_arguments
    from inspector.training.config import TrainConfig

    p = sub.add_parser(
        "train",
        help="train a model version, or fine-tune the workspace's (--workspace); JSON lines",
    )
    add_arguments(p)
    for action in p._actions:
        if action.dest in ("data", "out"):
            action.required = False  # required unless --workspace (checked in run)
    add_workspace_arguments(p, shared=frozenset(f.name for f in fields(TrainConfig)))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.domain import InspectorError
    from inspector.training.config import TrainConfig

    if args.workspace is not None:
        from inspector.loop.cli import run as run_finetune

        return run_finetune(args)
    for f in fields(TrainConfig):  # the options left unset take the from-scratch defaults
        if getattr(args, f.name, None) is None and f.default is not MISSING:
            setattr(args, f.name, f.default)
    if args.data is None or args.out is None:
        raise InspectorError("give --data and --out (train from a folder) or --workspace")
    from inspector.training.cli import run as run_training

    return run_training(args)
