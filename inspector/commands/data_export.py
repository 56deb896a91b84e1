"""``inspector export data --workspace DIR --format imagefolder|csv|jsonl --out PATH``.

Wired under ``inspector export`` by :mod:`inspector.commands.export`, which calls
:func:`add_arguments` on its ``data`` sub-parser and :func:`run` with the parsed arguments.
"""

from __future__ import annotations

import argparse

from inspector.commands.imports import add_workspace_argument


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_workspace_argument(p)
    p.add_argument(
        "--format",
        required=True,
        choices=("imagefolder", "csv", "jsonl"),
        help="imagefolder: a folder per class; csv: path,labels; jsonl: full history",
    )
    p.add_argument("--out", required=True, metavar="PATH", help="file (csv, jsonl) or new folder")
    p.add_argument(
        "--mode",
        choices=("copy", "symlink", "hardlink"),
        default="copy",
        help="imagefolder: copy the images or link to them (default: copy)",
    )


def run(args: argparse.Namespace) -> int:
    from inspector.store import LabelStore
    from inspector.store.exporters import export_csv, export_imagefolder, export_jsonl

    with LabelStore.open(getattr(args, "workspace", None), read_only=True) as store:
        try:
            if args.format == "csv":
                n, what = export_csv(store, args.out), "labelled images"
            elif args.format == "jsonl":
                n, what = export_jsonl(store, args.out), "label events"
            else:
                n, what = export_imagefolder(store, args.out, mode=args.mode), "labelled images"
        except OSError as exc:  # a folder that cannot be made, a read-only or full disk
            from inspector.domain import OutputError

            reason = exc.strerror or str(exc)
            raise OutputError(f"{args.out}: cannot write the export ({reason})") from None
    print(f"exported {n:,} {what} to {args.out}")
    return 0
