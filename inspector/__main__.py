"""``inspector``: the desktop app by default, or one of the command-line tools.

    inspector [--workspace DIR]            start the GUI
    inspector train|predict|export|bench|import|db|explain|model|calibrate|evaluate ...

Each subcommand lives in ``inspector/commands/<name>.py`` with ``register(subparsers)``; those
modules import nothing heavy at module level, so ``inspector --help`` and GUI start-up stay fast.
Expected problems (:class:`~inspector.domain.InspectorError`) print one line and exit 2; a
reader that stops early (``| head``) ends the command quietly with 141, as SIGPIPE would.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from inspector import __version__
from inspector.domain import InspectorError

#: Subcommand modules under inspector.commands, in --help order.
COMMANDS: tuple[str, ...] = (
    "train",
    "predict",
    "export",
    "bench",
    "imports",
    "db",
    "explain",
    "model",
    "calibrate",
    "evaluate",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Plate Inspector: steel-plate surface inspection. "
        "Without a command, starts the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--workspace", metavar="DIR", help="workspace folder (GUI)")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the window with a throw-away workspace, wait for the model, print timings, quit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"inspector.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        if sys.stdout is not None:  # None in a windowed (pythonw / PyInstaller) build
            sys.stdout.flush()  # here, not at exit, so a reader gone early is caught below
        return code
    except BrokenPipeError:
        # `inspector db check | head`: the reader has what it wanted. Exit as a shell does for
        # SIGPIPE, quietly; point stdout at /dev/null so the interpreter's last flush succeeds.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + 13


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _start_gui(args)
        return int(args.func(args) or 0)
    except InspectorError as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("inspector: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in TRAIN_EXTRA:
            raise
        print(f"inspector: error: {_needs_train_extra(top)}", file=sys.stderr)
        return 2


#: Packages only the [train] extra installs (gradient explanations, training, export need them).
TRAIN_EXTRA = frozenset({"torch", "torchvision", "timm", "shap", "onnx", "onnxscript"})


def _needs_train_extra(package: str) -> str:
    if getattr(sys, "frozen", False):  # the PyInstaller bundle leaves torch out on purpose
        return (
            f"this needs {package}, which the bundle leaves out: expected-gradients heatmaps "
            "(--method gradients), Grad-CAM, training and model export run in the Python install "
            "(pip install 'plate-inspector[train]'); region SHAP heatmaps (the default) work here"
        )
    return (
        f"this needs {package}: install the training extras, pip install 'plate-inspector[train]'"
    )


def _start_gui(args: argparse.Namespace) -> int:
    from inspector.preflight import check_gui_can_start

    check_gui_can_start()  # a missing X library: one line with the apt-get command, not Qt's abort
    try:
        gui = importlib.import_module(
            "inspector.gui.smoke" if args.smoke_test else "inspector.gui.app"
        )
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("inspector.gui"):
            build_parser().print_help()
            return 0
        raise
    return int(gui.main(args))


if __name__ == "__main__":
    sys.exit(main())
