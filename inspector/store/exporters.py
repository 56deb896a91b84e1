"""Export a workspace: an ImageFolder tree (copies or links), a ``path,labels`` CSV, or the full
label history as JSON lines. Each is written to a temporary name and renamed at the end, so an
interrupted export never looks like a finished one.

    export_csv(store, "labels.csv")                      # -> 1800 (labelled images)
    export_imagefolder(store, "out/", mode="symlink")    # -> 1800

The CSV and ImageFolder hold the *current* labels of labelled images (an empty ``labels`` cell
and the ``no defect`` folder mean "no defect"); the JSON lines hold every event, oldest first,
so `import_paths` of an export gives back the same current labels.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from pathlib import Path

from inspector.domain import NO_DEFECT
from inspector.store.errors import StoreError
from inspector.store.store import LabelStore

EXPORT_FORMATS = ("imagefolder", "csv", "jsonl")
LINK_MODES = ("copy", "symlink", "hardlink")


def _tmp(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    return out.with_name(out.name + ".part")


def export_csv(store: LabelStore, out: str | os.PathLike[str], *, relative: bool = True) -> int:
    """Write ``path,labels``; paths relative to the CSV's folder when possible (portable)."""
    out = Path(out).expanduser().absolute()
    tmp = _tmp(out)
    rows = store.training_snapshot(include_missing=True)
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "labels"])
        for path, labels in rows:
            p = path
            if relative:
                try:
                    p = os.path.relpath(path, out.parent)
                except ValueError:  # another drive on Windows
                    p = path
            w.writerow([p, ";".join(labels)])
    os.replace(tmp, out)
    return len(rows)


def export_jsonl(store: LabelStore, out: str | os.PathLike[str]) -> int:
    """Every label event, oldest first, one JSON object per line (labels as class names)."""
    out = Path(out).expanduser().absolute()
    tmp = _tmp(out)
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for path, e in store.iter_events():
            f.write(
                json.dumps(
                    {
                        "event": e.id,
                        "path": path,
                        "kind": e.kind,
                        "labels": None if e.labels is None else list(e.labels),
                        "user": e.user,
                        "role": e.role,
                        "time": e.created_at,
                        "reason": e.reason,
                        "reverts": e.reverts,
                        "model_version": e.model_version,
                        "probabilities": e.probabilities,
                        "model_labels": None if e.model_labels is None else list(e.model_labels),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
            n += 1
    os.replace(tmp, out)
    return n


def export_imagefolder(
    store: LabelStore, out: str | os.PathLike[str], *, mode: str = "copy"
) -> int:
    """One folder per class (``no defect`` for none); a multi-label image goes in each folder.

    Missing image files are skipped. ``out`` must not exist or be empty. Every target is
    worked out and checked to resolve inside ``out`` before the first file is written; a class
    name that would lead elsewhere (a workspace made before names were checked) is refused.
    """
    if mode not in LINK_MODES:
        raise StoreError(f"mode must be one of {', '.join(LINK_MODES)}, not {mode!r}")
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"{out} already exists and is not an empty folder")
    tmp = _tmp(out)
    if tmp.exists():
        shutil.rmtree(tmp)
    rows = store.training_snapshot()
    plan = _plan(rows, tmp, out)
    try:
        for src, dst in plan:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if mode == "symlink":
                dst.symlink_to(src)
            elif mode == "hardlink":
                os.link(src, dst)
            else:
                shutil.copy2(src, dst)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StoreError(f"cannot export to {out}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return len(rows)


def _plan(rows: list[tuple[str, tuple[str, ...]]], tmp: Path, out: Path) -> list[tuple[Path, Path]]:
    """(source, target) of every file to write, each target checked to lie inside ``tmp``."""
    inside = Path(os.path.realpath(tmp))
    taken: set[Path] = set()
    plan = []
    for path, labels in rows:
        src = Path(path)
        for folder in labels or (NO_DEFECT,):
            if not _safe_folder_name(folder):
                raise StoreError(
                    f"class {folder!r} cannot be a folder name: exporting it would write outside"
                    f" {out}; rename the class first (inspector refuses such names today)"
                )
            dst = tmp / folder / src.name
            if dst in taken:  # two sources with one name: keep both
                tag = hashlib.sha1(path.encode()).hexdigest()[:8]
                dst = dst.with_name(f"{src.stem}_{tag}{src.suffix}")
            if not Path(os.path.realpath(dst)).is_relative_to(inside):
                raise StoreError(f"refusing to write {dst}: it resolves outside {out}")
            taken.add(dst)
            plan.append((src, dst))
    return plan


def _safe_folder_name(name: str) -> bool:
    return (
        bool(name.strip())
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()
        and not os.path.isabs(name)
    )
