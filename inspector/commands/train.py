"""``inspector train``: see :mod:`inspector.training.cli`."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from inspector.training.cli import add_arguments

    p = sub.add_parser("train", help="train a model version (JSON-lines progress on stdout)")
    add_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from inspector.training.cli import run as run_training

    return run_training(args)
