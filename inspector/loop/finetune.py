"""Fine-tune a workspace's model on its labels, as a job: snapshot -> train -> compare -> candidate.

::

    done = jobs.run(finetune(FinetuneConfig(workspace=Path("ws"))), on_partial=print)
    done.version, done.model_dir     # 'ft-20261122-171200', 'ws/models/ft-20261122-171200'

Order of writes, so that killing the process at any moment leaves the store, the registry and
the active model as they were: (1) the run row (status ``running``, with this process's id) and
the frozen snapshot; (2) training writes only under ``W/runs/<version>``; (3) the finished
version folder is staged and renamed into ``W/models/<version>`` in one step; (4) only then is it
registered as a *candidate* and the run marked done, in one transaction each. A run left
``running`` by a process that is gone is marked ``failed`` at the next start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from inspector.atomic import replace_dir
from inspector.domain import DatasetError, ModelError, Progress
from inspector.explain.background import BACKGROUND_FILE, Background, save_background
from inspector.imageio import PreprocessSpec, load_image
from inspector.jobs import CancelFn, Cancelled, Job, Partial, check, never
from inspector.loop import data as loop_data
from inspector.loop.config import FinetuneConfig
from inspector.loop.evaluate import compare
from inspector.loop.head import initial_weights, load_parent
from inspector.paths import default_model_dir
from inspector.registry import check_model_dir, read_card, write_card
from inspector.store import LabelStore
from inspector.training import distributed
from inspector.training.config import TrainConfig
from inspector.training.events import Event

__all__ = ["Candidate", "Planned", "finetune", "reap_stale_runs", "resolve_parent"]


@dataclass(frozen=True, slots=True)
class Planned(Event):
    """The frozen snapshot and what the run will learn from (per class, by source)."""

    kind: ClassVar[str] = "snapshot"
    run_id: int
    parent: str
    snapshot_id: int
    snapshot_hash: str
    summary: dict


@dataclass(frozen=True, slots=True)
class Candidate(Event):
    """The job's result: the registered candidate, beside its baseline on the evaluation set."""

    kind: ClassVar[str] = "done"
    version: str
    model_dir: str
    parent: str
    run_id: int
    snapshot_hash: str
    onnx_parity_max_abs_diff: float
    evaluation: dict  # headline: macro AP / top-1 of candidate and baseline, flips
    wall_time_s: float


def resolve_parent(store: LabelStore, name: str | None) -> Path:
    """The model folder to start from: ``name``, else the active version, else the shipped one."""
    if name:
        mv = next((m for m in store.model_versions() if m.name == name), None)
        if mv is None:
            d = default_model_dir()
            if read_card(d).version == name:
                return d
            raise ModelError(f"unknown model version {name!r} (see inspector model list)")
        return Path(mv.path)
    active = store.active_model()
    if active is not None and active.path:
        return Path(active.path)
    return default_model_dir()


def reap_stale_runs(store: LabelStore) -> list[int]:
    """Mark runs left ``running`` by a process that is gone as failed; return their ids."""
    host = socket.gethostname()
    reaped = []
    for run_id, params in store.running_training_runs():
        pid = params.get("pid")
        if params.get("host") == host and isinstance(pid, int) and _alive(pid):
            continue
        store.finish_training_run(
            run_id,
            status="failed",
            metrics={"reason": "the training process ended without finishing (killed?)"},
        )
        reaped.append(run_id)
    return reaped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != os.getpid()  # a recycled id that is now us is not the old run


def finetune(cfg: FinetuneConfig, cancel: CancelFn = never) -> Job[Candidate]:
    """Freeze a snapshot, fine-tune from the parent, compare, register the candidate."""
    t0 = time.monotonic()
    ws = Path(cfg.workspace)
    _join_process_group(cfg)
    if not distributed.is_main():  # torchrun: rank 0 plans and writes; this rank trains its share
        job = yield from _follow(cancel)
        return job
    try:
        store = LabelStore.open(ws, create=False)
    except BaseException:
        distributed.broadcast(None)
        raise
    with store:
        try:
            parent_dir, parent_card, version, params = _check(store, cfg)
        except BaseException:
            distributed.broadcast(None)
            raise
        try:
            run_id = store.start_training_run(params=params, parent=parent_card.version)
        except BaseException:
            distributed.broadcast(None)  # the other ranks stop too
            raise
        try:
            result = yield from _run(store, cfg, ws, version, run_id, parent_dir, cancel, t0)
        except Cancelled:
            store.finish_training_run(run_id, status="cancelled")
            raise
        except BaseException as exc:
            store.finish_training_run(
                run_id, status="failed", metrics={"reason": f"{type(exc).__name__}: {exc}"}
            )
            raise
        return result


def _check(store: LabelStore, cfg: FinetuneConfig):
    """Reap dead runs, resolve and check the parent, name the version (nothing is written)."""
    reap_stale_runs(store)
    parent_dir = resolve_parent(store, cfg.from_version)
    parent_card = check_model_dir(parent_dir, need_weights=True)
    load_parent(parent_dir)  # a corrupt parent is refused before anything is written
    version = cfg.version or "ft-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    if any(m.name == version for m in store.model_versions()):
        raise ModelError(f"model version {version!r} exists already; choose another --version")
    spec = parent_card.preprocessing
    if spec != PreprocessSpec(size=spec.size, channels=1, mean=(0.5,), std=(0.5,)):
        raise ModelError(f"{parent_dir}: only grey 0.5/0.5-normalised models can be fine-tuned")
    params = {**cfg.to_json_dict(), "pid": os.getpid(), "host": socket.gethostname()}
    params["version"] = version
    return parent_dir, parent_card, version, params


def _run(store, cfg, ws, version, run_id, parent_dir, cancel, t0) -> Job[Candidate]:
    from inspector.training.loop import train

    parent_card = read_card(parent_dir)
    try:
        plan, head, ds, tcfg = yield from _prepare(
            store, cfg, ws, version, run_id, parent_dir, cancel
        )
    except BaseException:
        distributed.broadcast(None)
        raise
    distributed.broadcast((tcfg, ds))
    done = yield from train(tcfg, dataset=ds, cancel=cancel)  # ends with a barrier of all ranks
    check(cancel)
    yield Progress(0, 0, "comparing with the parent on the evaluation set")
    trained = Path(done.model_dir)
    comparison = compare(
        trained, parent_dir, {"evaluation": plan.snapshot.role("eval"), "corrected": plan.new}
    )
    check(cancel)
    yield Progress(0, 0, "writing the candidate")
    final = ws / "models" / version
    _publish(trained, final, plan, comparison, head, run_id, store, cfg)
    card = read_card(final)
    headline = _headline(comparison)
    known = {m.name for m in store.model_versions()}
    parent_row = None
    if parent_card.version not in known:  # the version in use, never registered (shipped)
        parent_row = {
            "name": parent_card.version,
            "classes": parent_card.classes,
            "thresholds": parent_card.thresholds,
            "path": str(parent_dir),
            "metrics": {},
            "parent": parent_card.parent,
            "status": "retired",
        }
    store.register_candidate(
        {
            "name": version,
            "classes": card.classes,
            "thresholds": card.thresholds,
            "path": str(final),
            "metrics": {**headline, "snapshot_hash": plan.snapshot.hash, "run_id": run_id},
            "parent": parent_card.version,
            "status": "candidate",
        },
        run_id=run_id,
        run_metrics={**headline, **done.val},
        parent=parent_row,
    )
    shutil.rmtree(tcfg.out / "model", ignore_errors=True)  # the published copy is the version
    return Candidate(
        version=version,
        model_dir=str(final),
        parent=parent_card.version,
        run_id=run_id,
        snapshot_hash=plan.snapshot.hash,
        onnx_parity_max_abs_diff=done.onnx_parity_max_abs_diff,
        evaluation=headline,
        wall_time_s=round(time.monotonic() - t0, 1),
    )


def _prepare(store, cfg, ws, version, run_id, parent_dir, cancel):
    """Freeze the snapshot, write the starting weights, make the dataset and the schedule."""
    parent_card = read_card(parent_dir)
    yield Progress(0, 0, "freezing the data snapshot")
    plan = loop_data.plan(
        store,
        parent_card,
        parent_dir,
        run_id=run_id,
        min_per_class=cfg.min_per_class,
        eval_fraction=cfg.eval_fraction,
        replay_per_class=cfg.replay_per_class,
        seed=cfg.seed,
    )
    yield Partial(
        Planned(run_id, parent_card.version, plan.snapshot.id, plan.snapshot.hash, plan.summary)
    )
    check(cancel)
    run_dir = ws / "runs" / version
    init_file = run_dir / "init.safetensors"
    _, head = initial_weights(parent_dir, plan.classes, init_file, cfg.seed)
    ds = plan.dataset(cfg.val_fraction, cfg.seed)
    if not ds.split("val"):
        raise DatasetError("too few images to hold any out for validation: label more plates")
    tcfg = TrainConfig(
        data=ws,
        out=run_dir,
        arch=parent_card.architecture,
        size=parent_card.preprocessing.size,
        pretrained=str(init_file),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        warmup_epochs=cfg.warmup_epochs,
        patience=cfg.patience,
        aug_strength=cfg.aug_strength,
        secondary_target=1.0,  # people's labels are all equally present
        max_minutes=cfg.max_minutes,
        seed=cfg.seed,
        device=cfg.device,
        threads=cfg.threads,
        version=version,
        parent=parent_card.version,
    )
    return plan, head, ds, tcfg


def _join_process_group(cfg: FinetuneConfig) -> None:
    if distributed.world_size() > 1:
        import torch

        want = "cuda" if cfg.device == "auto" and torch.cuda.is_available() else cfg.device
        distributed.init(torch.device("cpu" if want == "auto" else want))


def _follow(cancel: CancelFn) -> Job[None]:
    """A rank other than 0: receive the frozen training job from rank 0, train its share."""
    from inspector.training.loop import train

    job = distributed.broadcast(None)
    if job is None:
        raise ModelError("rank 0 stopped before training (see its error)")
    tcfg, ds = job
    yield from train(tcfg, dataset=ds, cancel=cancel)
    return None


def _headline(comparison: dict) -> dict:
    out: dict = {"baseline": comparison.get("baseline")}
    for name in ("evaluation", "corrected"):
        e = comparison.get(name, {})
        for who in ("candidate", "baseline"):
            if who in e:
                out[f"{name}_{who}_macro_ap"] = e[who]["macro_ap"]
                out[f"{name}_{who}_top1"] = e[who]["top1_accuracy"]
        out[f"{name}_flips"] = len(e.get("flips", []))
        out[f"{name}_images"] = e.get("n_images", 0)
    return out


def _publish(trained, final, plan, comparison, head, run_id, store, cfg) -> None:
    """Copy the exported version into a temporary folder, complete it, rename it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        for f in trained.iterdir():
            shutil.copy2(f, staging / f.name)
        card = read_card(staging)
        training = {
            **card.training,
            "finetune": cfg.to_json_dict(),
            "snapshot_id": plan.snapshot.id,
            "snapshot_hash": plan.snapshot.hash,
            "workspace_db": str(store.path),
            "run_id": run_id,
            "head": head,
            "data_summary": plan.summary,
        }
        card = replace(
            card,
            data_hash=plan.snapshot.hash,
            training=training,
            metrics={**card.metrics, "comparison": comparison},
        )
        write_card(staging, card)
        save_background(_background(card, plan), staging / BACKGROUND_FILE)
        staging.chmod(0o755)
        for f in staging.iterdir():
            f.chmod(0o644)
        replace_dir(staging, final)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(
            f"{final}: cannot write the model version ({exc.strerror or exc})"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _background(card, plan, per_class: int = 3) -> Background:
    """The explanation background: ``per_class`` of the snapshot's training images per class."""
    rng = np.random.default_rng(0)
    images, labels = [], []
    pool = [(i.path, i.labels) for i in plan.new] + [(p, ls) for p, ls, _ in plan.replay]
    for c in card.classes:
        files = sorted(p for p, ls in pool if ls and ls[0] == c)
        for j in sorted(rng.choice(len(files), min(per_class, len(files)), replace=False)):
            images.append(card.preprocessing.resize(load_image(files[j])))
            labels.append(c)
    arr = np.stack(images).astype(np.uint8)
    digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]
    source = (
        f"training snapshot {plan.snapshot.hash[:12]}: {len(arr)} images ({per_class} per class)"
    )
    return Background(arr, tuple(labels), source, digest)
