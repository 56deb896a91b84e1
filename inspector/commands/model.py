"""``inspector model list|promote|rollback|discard|import`` over a workspace's model versions.

    inspector model list [--json]
    inspector model promote VERSION --role supervisor [--override "written reason"]
    inspector model rollback [VERSION] --role supervisor
    inspector model discard VERSION --role supervisor
    inspector model import DIR --role supervisor       # e.g. a version trained on a cluster

See :mod:`inspector.loop.models` for the regression gate.
"""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    from inspector.commands.imports import add_workspace_argument

    p = sub.add_parser("model", help="list, promote, roll back, discard or import model versions")
    acts = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="the workspace's versions with their evaluation figures")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    pr = acts.add_parser("promote", help="make a candidate active (regression gate)")
    pr.add_argument("version")
    pr.add_argument("--override", default="", help="written reason to promote despite the gate")
    rb = acts.add_parser("rollback", help="make an earlier version active again")
    rb.add_argument("version", nargs="?", help="default: the version active before this one")
    rb.add_argument("--reason", default="")
    dc = acts.add_parser("discard", help="retire a candidate that will not be promoted")
    dc.add_argument("version")
    dc.add_argument("--reason", default="")
    im = acts.add_parser("import", help="copy a model version folder in as a candidate")
    im.add_argument("source", metavar="DIR")
    for a in (ls, pr, rb, dc, im):
        add_workspace_argument(a)
    for a in (pr, rb, dc, im):
        a.add_argument("--user", default=None, help="who decides (default: login)")
        a.add_argument("--role", default="annotator", help="decisions need 'supervisor'")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from inspector.commands.imports import default_user
    from inspector.loop import models
    from inspector.store import LabelStore

    with LabelStore.open(args.workspace, create=args.action != "list") as store:
        if args.action == "list":
            rows = models.versions(store)
            if args.json:
                for r in rows:
                    print(json.dumps(r.__dict__))
                return 0
            print(
                f"{'version':<28} {'status':<10} {'parent':<22} {'eval mAP':>9} {'parent':>9} flips"
            )
            for r in rows:
                ap = "" if r.eval_macro_ap is None else f"{r.eval_macro_ap:.4f}"
                bp = "" if r.baseline_macro_ap is None else f"{r.baseline_macro_ap:.4f}"
                fl = "" if r.flips is None else str(r.flips)
                print(f"{r.name:<28} {r.status:<10} {r.parent or '':<22} {ap:>9} {bp:>9} {fl}")
            return 0
        who = {"user": args.user or default_user(), "role": args.role}
        if args.action == "promote":
            verdict = models.promote(store, args.version, override=args.override, **who)
            note = " (gate overridden)" if verdict.get("overridden") else ""
            print(f"{args.version} is now the active version{note}")
        elif args.action == "rollback":
            name = models.rollback(store, args.version, reason=args.reason, **who)
            print(f"{name} is now the active version")
        elif args.action == "discard":
            models.discard(store, args.version, reason=args.reason, **who)
            print(f"{args.version} discarded")
        else:
            name = models.import_version(store, Path(args.source), **who)
            print(f"{name} imported as a candidate")
    return 0
