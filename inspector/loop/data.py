"""What a fine-tuning run learns from: the frozen snapshot, the evaluation set, replay, refusals.

:func:`plan` reads the workspace's current human labels once (one committed state), refuses with
a reason when they cannot make a model (no labels, a class with one image, too few per class),
grows the evaluation set for classes it has not seen (chosen once, stratified, seeded; never
trained on) and freezes a data snapshot in the store: image ids, content hashes, label vectors
and a snapshot hash. Labels written afterwards never change what the run uses.

The training set is every image *new or corrected since the parent* plus a replay sample of
the parent's training data: unchanged workspace images first, topped up from the parent's own
training folder when it is on disk. Missing or unreadable files are skipped and counted.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.domain import DatasetError
from inspector.explain.background import training_data_dir
from inspector.registry import ModelCard
from inspector.store import LabelStore
from inspector.store.images import norm_path
from inspector.store.learning import Snapshot, SnapshotItem, file_sha256
from inspector.training.data import Dataset, Sample, read_imagefolder

__all__ = ["RunPlan", "parent_labels", "plan"]


@dataclass
class RunPlan:
    snapshot: Snapshot
    classes: tuple[str, ...]  # the new version's classes, output order
    head: str  # "kept" | "grown" | "replaced"
    new: list[SnapshotItem]  # new or corrected since the parent (all trained on)
    replay: list[tuple[str, tuple[str, ...], str]]  # (path, labels, "workspace" | "parent data")
    summary: dict = field(default_factory=dict)

    def dataset(self, val_fraction: float, seed: int) -> Dataset:
        """A stratified train/val split of new + replay (val tunes thresholds, stops early)."""
        index = {c: i for i, c in enumerate(self.classes)}
        rows = [(i.path, i.labels) for i in self.new] + [(p, ls) for p, ls, _ in self.replay]
        by_class: dict[int, list[tuple[str, frozenset[int]]]] = defaultdict(list)
        for path, labels in rows:
            ids = frozenset(index[c] for c in labels if c in index)
            if ids:
                by_class[min(ids)].append((path, ids))
        rng = np.random.default_rng(seed)
        ds = Dataset(self.classes)
        for primary in sorted(by_class):
            group = sorted(by_class[primary])
            order = rng.permutation(len(group))
            n_val = round(val_fraction * len(group)) if len(group) >= 3 else 0
            for rank, j in enumerate(order):
                path, ids = group[j]
                split = "val" if rank < n_val else "train"
                ds.samples.append(Sample(Path(path), primary, ids, split))
        return ds


def parent_labels(store: LabelStore, card: ModelCard, model_dir: Path) -> dict[str, tuple]:
    """path -> labels the parent was trained on (its workspace snapshot, else its data folder)."""
    sid = card.training.get("snapshot_id")
    if sid is not None and card.training.get("workspace_db") == str(store.path):
        try:
            snap = store.data_snapshot(int(sid))
        except KeyError:
            snap = None
        if snap is not None:
            return {i.path: i.labels for i in snap.role("train")}
    data = training_data_dir(card, model_dir)
    if data is None:
        return {}
    try:
        ds = read_imagefolder(data)
    except DatasetError:
        return {}
    return {
        norm_path(s.path): tuple(ds.classes[k] for k in sorted(s.labels))
        for s in ds.samples
        if s.split in ("train", "val")
    }


def _refuse(counts: Counter, min_per_class: int) -> None:
    ones = sorted(c for c, n in counts.items() if n == 1)
    if ones:
        raise DatasetError(
            f"class {', '.join(ones)} has only one labelled image: it cannot be both learnt "
            "and evaluated; label more or merge the class"
        )
    few = sorted(f"{c} ({n})" for c, n in counts.items() if n < min_per_class)
    if few:
        raise DatasetError(
            f"too few labelled images for {', '.join(few)}: at least {min_per_class} per class "
            "are needed (--min-per-class)"
        )


def _draw_eval(
    usable: list[tuple[int, str, str | None, tuple[str, ...]]],
    eval_set: dict[int, str],
    classes: list[str],
    fraction: float,
    seed: int,
) -> dict[int, str]:
    """Images to add to the evaluation set: only for classes it has none of yet."""
    have = set(eval_set.values())
    picks: dict[int, str] = {}
    for k, c in enumerate(classes):
        if c in have:
            continue
        pool = sorted(
            iid for iid, _, _, ls in usable if c in ls and iid not in eval_set and iid not in picks
        )
        if not pool:
            continue
        n = min(len(pool) - 1, max(1, round(fraction * len(pool))))
        rng = np.random.default_rng([seed, k, len(pool)])
        for j in sorted(rng.choice(len(pool), n, replace=False)):
            picks[int(pool[j])] = c
    return picks


def plan(
    store: LabelStore,
    parent: ModelCard,
    parent_dir: Path,
    *,
    run_id: int | None,
    min_per_class: int,
    eval_fraction: float,
    replay_per_class: int,
    seed: int,
    freeze: bool = True,
) -> RunPlan:
    """Refuse or freeze: the snapshot is written (one transaction) only when the run can go on.

    ``freeze=False`` previews what a run would use (nothing is written, files are not hashed;
    the plan's ``snapshot`` is None).
    """
    rows, eval_set = store.learning_sources()
    if not rows:
        raise DatasetError("no labelled images in the workspace: label some plates first")
    usable, missing, no_defect = [], 0, 0
    for iid, path, sha, labels, bad in rows:
        if bad or not os.path.isfile(path):
            missing += 1
        elif not labels:
            no_defect += 1  # the training data format needs a defect class (see the report)
        else:
            usable.append((iid, path, sha, labels))
    if not usable:
        raise DatasetError(
            f"no usable labelled images ({missing} missing or unreadable, {no_defect} no-defect)"
        )
    counts = Counter(c for _, _, _, ls in usable for c in ls)
    _refuse(counts, min_per_class)
    store_order = [c for c in store.classes() if c in counts]
    additions = _draw_eval(usable, eval_set, store_order, eval_fraction, seed)
    in_eval = set(eval_set) | set(additions)

    items: list[SnapshotItem] = []
    for iid, path, sha, labels in usable:
        digest = sha or (file_sha256(path) if freeze else "")
        if digest is None:
            missing += 1
            continue
        items.append(SnapshotItem(iid, "eval" if iid in in_eval else "train", path, digest, labels))
    usable_ids = {i.image_id for i in items}
    eval_unavailable = sorted(set(eval_set) - usable_ids)

    known = set(parent.classes)
    if known & set(counts):
        head = "grown" if set(counts) - known else "kept"
        classes = tuple(parent.classes) + tuple(c for c in store_order if c not in known)
    else:
        head, classes = "replaced", tuple(store_order)

    before = parent_labels(store, parent, parent_dir) if head != "replaced" else {}
    train_items = [i for i in items if i.role == "train"]
    new = [i for i in train_items if before.get(i.path) != i.labels]
    if not new:
        raise DatasetError(
            f"nothing new since {parent.version}: every labelled image is as it was trained on"
        )
    replay = _replay(train_items, new, before, in_eval, items, classes, replay_per_class, seed)

    summary = {
        "parent": parent.version,
        "head": head,
        "classes": list(classes),
        "new_classes": [c for c in classes if c not in known],
        "per_class": {
            c: {
                "new_or_corrected": sum(c in i.labels for i in new),
                "replay_workspace": sum(c in ls for _, ls, src in replay if src == "workspace"),
                "replay_parent_data": sum(c in ls for _, ls, src in replay if src != "workspace"),
                "evaluation": sum(c in i.labels for i in items if i.role == "eval"),
            }
            for c in classes
        },
        "train_images": len(new) + len(replay),
        "skipped_missing_or_unreadable": missing,
        "skipped_no_defect": no_defect,
        "evaluation_unavailable": len(eval_unavailable),
        "evaluation_added": len(additions),
    }
    if not freeze:
        return RunPlan(None, classes, head, new, replay, summary)  # type: ignore[arg-type]
    snap = store.freeze_snapshot(
        items, additions, run_id=run_id, parent=parent.version, summary=summary
    )
    summary["snapshot_id"], summary["snapshot_hash"] = snap.id, snap.hash
    return RunPlan(snap, classes, head, new, replay, summary)


def _replay(
    train_items: list[SnapshotItem],
    new: list[SnapshotItem],
    before: dict[str, tuple],
    in_eval: set[int],
    items: list[SnapshotItem],
    classes: tuple[str, ...],
    per_class: int,
    seed: int,
) -> list[tuple[str, tuple[str, ...], str]]:
    if per_class <= 0 or not before:
        return []
    new_paths = {i.path for i in new}
    workspace_paths = {i.path for i in items}
    eval_paths = {i.path for i in items if i.image_id in in_eval}
    unchanged = [(i.path, i.labels) for i in train_items if i.path not in new_paths]
    parent_only = [
        (p, ls)
        for p, ls in sorted(before.items())
        if p not in workspace_paths and p not in eval_paths and os.path.isfile(p)
    ]
    rng = np.random.default_rng(seed)
    out: list[tuple[str, tuple[str, ...], str]] = []
    for c in classes:
        for pool, src in ((unchanged, "workspace"), (parent_only, "parent data")):
            need = per_class - sum(c == ls[0] for _, ls, _ in out if ls)
            cand = [(p, ls) for p, ls in pool if ls and ls[0] == c]
            if need <= 0 or not cand:
                continue
            for j in sorted(rng.choice(len(cand), min(need, len(cand)), replace=False)):
                out.append((*cand[j], src))
    return out
