"""``inspector train --workspace W [--from VERSION]`` (and ``python -m inspector.training --workspace``).

JSON lines on stdout as the folder mode prints them (started / epoch / ... / done or error), with
one more event, ``snapshot``, naming the frozen data and what comes from where. Expected problems
(a refusal, a bad parent) end with an ``error`` line and exit 2.
"""

from __future__ import annotations

import argparse
import signal
import sys

from inspector.loop.config import FinetuneConfig, add_arguments, from_args

__all__ = ["main", "run"]


def _emit(event) -> None:
    from inspector.training import distributed

    if distributed.is_main():  # torchrun: one stream of events, rank 0's
        print(event.to_json(), flush=True)


def run(args: argparse.Namespace) -> int:
    """Fine-tune with the parsed arguments, printing each event as a JSON line; 0 on success."""
    from inspector import jobs
    from inspector.domain import InspectorError
    from inspector.loop.finetune import finetune
    from inspector.training.events import Error

    cfg = from_args(args)
    stop = []
    # Cancel = SIGTERM (QProcess.terminate): stop between batches, mark the run cancelled.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    try:
        done = jobs.run(finetune(cfg, cancel=lambda: bool(stop)), on_partial=_emit)
    except jobs.Cancelled:
        _emit(Error(message="cancelled", type="Cancelled"))
        return 130
    except InspectorError as exc:
        _emit(Error(message=str(exc), type=type(exc).__name__))
        raise
    except Exception as exc:
        _emit(Error(message=str(exc), type=type(exc).__name__))
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        from inspector.training import distributed

        distributed.shutdown()
    if done is not None:  # None on ranks other than 0
        _emit(done)
    return 0


def main(argv: list[str] | None = None) -> int:
    from inspector.domain import InspectorError

    parser = argparse.ArgumentParser(
        prog="python -m inspector.training",
        description="Fine-tune the workspace's model on its labels into a candidate version.",
    )
    add_arguments(parser, FinetuneConfig)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except InspectorError as exc:
        print(f"inspector train: error: {exc}", file=sys.stderr)
        return 2
