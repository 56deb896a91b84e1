"""The Model view's controller (Qt-free): fine-tune now, follow the run, compare, promote/discard.

Training runs in its own process (the view's runner starts :meth:`ModelController.command` and
feeds each stdout line to :meth:`feed`, then the exit code to :meth:`finished`); this object
keeps what the view shows: the phase, progress with ETA, the loss / validation-AP curve, the
log, and once a candidate exists its comparison with the active version and the flip report.

    c = ModelController("ws", user="eva", role="supervisor")
    argv = c.command()                       # [python, -m, inspector.training, --workspace, ws, ...]
    c.feed('{"event": "epoch", ...}')        # from the process, line by line
    c.finished(0)
    c.comparison_rows(), c.flips()
    c.promote(override="")                   # regression gate; supervisor only
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from inspector.controllers.roles import require
from inspector.controllers.signals import Signal
from inspector.domain import InspectorError
from inspector.jobs import CancelFn, never
from inspector.loop import models
from inspector.registry import read_card
from inspector.store import LabelStore

__all__ = ["ModelController", "RunState"]


@dataclass
class RunState:
    phase: str = "idle"  # idle | running | done | failed | cancelled
    done: int = 0  # epochs finished
    total: int = 0
    eta_s: float | None = None
    curve: list[tuple[int, float, float]] = field(default_factory=list)  # epoch, loss, val AP
    log: list[str] = field(default_factory=list)
    candidate: str | None = None
    error: str = ""


class ModelController:
    def __init__(self, workspace: str | Path, *, user: str, role: str) -> None:
        self.workspace = Path(workspace)
        self.user, self.role = user, role
        self.state = RunState()
        self.changed = Signal()  # the state changed (progress, log, phase)
        self.versions_changed = Signal()  # promote / discard / a new candidate
        self.model_promoted = Signal()  # (model folder) the window swaps its ONNX session

    # -- what a run will use -------------------------------------------------------------------
    def summary(self, cancel: CancelFn = never) -> str:
        """What 'Fine-tune now' would use: the parent, new / corrected labels and replay per
        class, and a rough time; or why it would be refused. Nothing is written."""
        from inspector.loop.config import FinetuneConfig
        from inspector.loop.data import plan
        from inspector.loop.finetune import resolve_parent

        cfg = FinetuneConfig(workspace=self.workspace)
        try:
            with LabelStore.open(self.workspace, create=False, read_only=True) as store:
                parent_dir = resolve_parent(store, None)
                card = read_card(parent_dir)
                p = plan(
                    store,
                    card,
                    parent_dir,
                    run_id=None,
                    min_per_class=cfg.min_per_class,
                    eval_fraction=cfg.eval_fraction,
                    replay_per_class=cfg.replay_per_class,
                    seed=cfg.seed,
                    freeze=False,
                )
        except InspectorError as exc:
            return f"Fine-tune now would be refused: {exc}"
        per = ", ".join(
            f"{c} {v['new_or_corrected']}+{v['replay_workspace'] + v['replay_parent_data']}"
            for c, v in p.summary["per_class"].items()
        )
        n = p.summary["train_images"]
        # ~0.13 s per image and epoch on a 2-core CPU at 144 px (benchmarks/bench_finetune.py)
        minutes = (n * cfg.epochs * 0.13 * (card.preprocessing.size / 144) ** 2 + 20) / 60
        return (
            f"Starts from {card.version} (head {p.head}); new or corrected + replay per class: "
            f"{per}; "
            + (f"about {minutes:.0f} min" if minutes >= 1 else "under a minute")
            + " on a 2-core CPU"
        )

    def active_model_dir(self) -> str | None:
        """The workspace's active version's folder (what the window should load), if any."""
        try:
            with LabelStore.open(self.workspace, create=False, read_only=True) as store:
                active = store.active_model()
        except InspectorError:
            return None
        return active.path if active is not None and Path(active.path).is_dir() else None

    def command(self, *extra: str) -> list[str]:
        """The training process's command line (run by the view's QProcess)."""
        return [
            sys.executable,
            "-m",
            "inspector.training",
            "--workspace",
            str(self.workspace),
            "--user",
            self.user,
            # One torch thread: the window keeps the other core, and on a 2-core PC shared with
            # other work 1 thread was 3.5x faster than 2 (34 s vs 118 s, bench_finetune.py).
            "--threads",
            "1",
            *extra,  # later options win (argparse), e.g. ("--threads", "2")
        ]

    # -- following a run -----------------------------------------------------------------------
    def started(self) -> None:
        self.state = RunState(phase="running")
        self.changed.emit()

    def feed(self, line: str) -> None:
        """One line of the training process's stdout (a JSON event; anything else is logged)."""
        line = line.strip()
        if not line:
            return
        try:
            ev = json.loads(line)
        except json.JSONDecodeError:
            self.state.log.append(line)
            self.changed.emit()
            return
        kind = ev.get("event")
        s = self.state
        if kind == "snapshot":
            n = ev["summary"]["train_images"]
            s.log.append(f"snapshot {ev['snapshot_hash'][:12]}: {n} training images")
        elif kind == "started":
            s.total = ev["epochs"]
            s.log.append(f"training {ev['train']} + {ev['val']} images on {ev['device']}")
        elif kind == "epoch":
            s.done, s.total, s.eta_s = ev["epoch"], ev["epochs"], ev["eta_s"]
            s.curve.append((ev["epoch"], ev["loss"], ev["val_macro_ap"]))
            s.log.append(
                f"epoch {ev['epoch']}/{ev['epochs']}: loss {ev['loss']:.4f}, "
                f"val macro AP {ev['val_macro_ap']:.4f}"
            )
        elif kind == "done":
            s.candidate = ev["version"]
            s.log.append(f"candidate {ev['version']} registered")
        elif kind == "error":
            s.error = ev["message"]
            s.log.append(f"error: {ev['message']}")
        elif kind in ("early_stop", "time_limit"):
            s.log.append(f"{kind.replace('_', ' ')} after epoch {ev['epoch']}")
        self.changed.emit()

    def finished(self, exit_code: int, cancelled: bool = False) -> None:
        s = self.state
        if cancelled or exit_code == 130:
            s.phase = "cancelled"
            s.log.append("cancelled: nothing was registered")
        elif exit_code == 0 and s.candidate:
            s.phase = "done"
        else:
            s.phase = "failed"
            if not s.error:
                s.error = f"the training process ended with code {exit_code}"
                s.log.append(s.error)
        self.changed.emit()
        if s.phase == "done":
            self.versions_changed.emit()

    # -- candidates ----------------------------------------------------------------------------
    def versions(self) -> list[models.VersionRow]:
        with LabelStore.open(self.workspace, create=False, read_only=True) as store:
            return models.versions(store)

    def latest_candidate(self) -> str | None:
        cands = [v.name for v in self.versions() if v.status == "candidate"]
        return cands[-1] if cands else None

    def _comparison(self, version: str) -> dict:
        row = next((v for v in self.versions() if v.name == version), None)
        if row is None or not row.path:
            return {}
        return read_card(row.path).metrics.get("comparison", {})

    def comparison_rows(self, version: str, which: str = "evaluation") -> list[tuple]:
        """(metric, baseline, candidate) rows: macro AP, top-1, then AP and F1 per class."""
        ev = self._comparison(version).get(which, {})
        if "candidate" not in ev:
            return []
        c, b = ev["candidate"], ev.get("baseline", {})
        rows = [
            ("macro AP", b.get("macro_ap"), c["macro_ap"]),
            ("top-1", b.get("top1_accuracy"), c["top1_accuracy"]),
        ]
        for cls, v in c["per_class"].items():
            bv = b.get("per_class", {}).get(cls, {})
            rows.append((f"{cls} AP", bv.get("ap"), v["ap"]))
            rows.append((f"{cls} F1", bv.get("f1"), v["f1"]))
        return rows

    def flips(self, version: str) -> list[dict]:
        comp = self._comparison(version)
        return [
            {**f, "set": name}
            for name in ("evaluation", "corrected")
            for f in comp.get(name, {}).get("flips", [])
        ]

    def promote(self, version: str, override: str = "") -> dict:
        require(self.role, "promote a model")
        with LabelStore.open(self.workspace) as store:
            verdict = models.promote(
                store, version, user=self.user, role=self.role, override=override
            )
            path = store.model_version(version).path
        self.versions_changed.emit()
        self.model_promoted.emit(path)
        return verdict

    def discard(self, version: str, reason: str = "") -> None:
        require(self.role, "discard a model")
        with LabelStore.open(self.workspace) as store:
            models.discard(store, version, user=self.user, role=self.role, reason=reason)
        self.versions_changed.emit()

    def rollback(self, version: str | None = None) -> str:
        require(self.role, "roll back the model")
        with LabelStore.open(self.workspace) as store:
            name = models.rollback(store, version, user=self.user, role=self.role)
            path = store.model_version(name).path
        self.versions_changed.emit()
        self.model_promoted.emit(path)
        return name
