"""``inspector db backup --out FILE`` and ``inspector db check`` (both take ``--workspace DIR``).

Both open the workspace read-only: they work on a read-only folder or medium, and on a damaged
database (which no command writes into), where they are what the user needs most.
"""

from __future__ import annotations

import argparse

from inspector.commands.imports import add_workspace_argument


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("db", help="back up or check a workspace database")
    sub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    b = sub.add_parser("backup", help="copy the live database (one consistent snapshot)")
    add_workspace_argument(b)
    b.add_argument("--out", required=True, metavar="FILE", help="backup file to write")
    b.set_defaults(func=run_backup)
    c = sub.add_parser("check", help="integrity check, schema version and row counts")
    add_workspace_argument(c)
    c.set_defaults(func=run_check)


def run_backup(args: argparse.Namespace) -> int:
    from inspector.store import LabelStore

    with LabelStore.open(getattr(args, "workspace", None), read_only=True) as store:
        out = store.backup(args.out)
        print(f"backed up {store.path} to {out} ({out.stat().st_size:,} bytes)")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from inspector.store import LabelStore

    with LabelStore.open(getattr(args, "workspace", None), read_only=True) as store:
        report = store.check()
    lines = [
        f"database: {report.path}",
        f"integrity: {report.integrity}",
        f"schema version: {report.schema_version} (this program: {report.code_schema_version})",
        *(f"{name}: {n:,}" for name, n in report.counts.items()),
    ]
    for line in lines:  # a reader that stops early (`| head`) is handled once, in __main__
        print(line)
    return 0 if report.ok else 1
