"""``inspector import PATH... [--workspace DIR] [--format imagefolder|csv|voc]``.

inspector import ../shared/data/neu-cls                      # ImageFolder: one folder per class
inspector import labels.csv --user ana                        # path,labels (';'-separated)
inspector import ../shared/data/neu-det-annotations --images-root ../shared/data/neu-cls

Exit status: 0 when every file was found and decoded, 1 when some were missing or unreadable
(they are still added, and marked), 2 when the input was refused (nothing written).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from inspector.domain import Progress


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "import",
        help="import images and labels into a workspace",
        description="Import an ImageFolder tree, a path,labels CSV or Pascal "
        "VOC XML files into the label store (all-or-nothing).",
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="folder, .csv or .xml (or folder of .xml)"
    )
    add_workspace_argument(p)
    p.add_argument(
        "--format",
        choices=("imagefolder", "csv", "voc"),
        help="input format (default: guessed from each PATH)",
    )
    p.add_argument("--user", default=None, help="who the labels are attributed to (default: login)")
    p.add_argument("--role", default="annotator", choices=("inspector", "annotator", "supervisor"))
    p.add_argument(
        "--add-classes",
        action="store_true",
        help="create classes the workspace does not have yet (default: refuse)",
    )
    p.add_argument(
        "--images-root",
        metavar="DIR",
        help="where the images are, if not beside the CSV/XML (e.g. ../shared/data/neu-cls);"
        " CSV/VOC image paths must lie inside it or the CSV's/XML's folder",
    )
    p.add_argument(
        "--allow-outside",
        action="store_true",
        help="let a CSV/XML name images anywhere on this computer (default: refuse)",
    )
    p.set_defaults(func=run)


def add_workspace_argument(p: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand default must not overwrite `inspector --workspace DIR import ...`.
    p.add_argument(
        "--workspace",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="workspace folder (default: $INSPECTOR_WORKSPACE or the user data folder)",
    )


def default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _show(step: Progress) -> None:
    if sys.stderr.isatty():
        print(f"\r{step.message}: {step.done}/{step.total}", end="", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from inspector.store import LabelStore
    from inspector.store.importers import import_paths

    with LabelStore.open(getattr(args, "workspace", None)) as store:
        report = import_paths(
            store,
            args.paths,
            progress=_show,
            fmt=args.format,
            user=args.user or default_user(),
            role=args.role,
            add_classes=args.add_classes,
            images_root=args.images_root,
            allow_outside=args.allow_outside,
        )
        if sys.stderr.isatty():
            print(file=sys.stderr)
        for path, kept in report.duplicates[:20]:
            print(f"duplicate: {path} (same pixels as {kept}), skipped", file=sys.stderr)
        for path in report.missing[:20]:
            print(f"missing: {path} (added, marked missing)", file=sys.stderr)
        for path in report.unreadable[:20]:
            print(
                f"unreadable: {path} (added, marked unreadable: it does not decode)",
                file=sys.stderr,
            )
        print(f"imported into {store.workspace}: {report.summary()}")
    # The summary line stays; the exit status tells scripts that some files need attention.
    return 0 if report.complete else 1
