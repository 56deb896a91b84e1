"""The fine-tuning configuration: the one source of ``inspector train --workspace``'s defaults.

A short schedule suited to starting from a trained model: few epochs, a small learning rate,
light augmentation. Options shared with :class:`~inspector.training.config.TrainConfig`
(``--epochs``, ``--lr``, ...) keep their names; in ``--workspace`` mode a shared option not given
on the command line takes *this* class's default, not the from-scratch one.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_arguments(p, FinetuneConfig)
>>> cfg = from_args(p.parse_args(["--workspace", "ws", "--from", "v1"]))
>>> cfg.from_version, cfg.epochs, cfg.lr
('v1', 3, 0.0005)
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from inspector.training.config import add_arguments
from inspector.training.config import cli_field as _cli

__all__ = ["FinetuneConfig", "add_arguments", "from_args"]


@dataclass(kw_only=True)
class FinetuneConfig:
    """Everything one workspace fine-tuning run depends on (saved with the run and the card)."""

    # -- workspace
    workspace: Path = field(metadata=_cli("workspace", "workspace folder (labels database)"))
    from_version: str | None = field(
        default=None,
        metadata=_cli(
            "workspace",
            "model version to start from (default: the workspace's active model, else the shipped one)",
            flag="--from",
        ),
    )
    replay_per_class: int = field(
        default=20,
        metadata=_cli("workspace", "images per class replayed from the parent's training data"),
    )
    min_per_class: int = field(
        default=3, metadata=_cli("workspace", "refuse when a labelled class has fewer images")
    )
    eval_fraction: float = field(
        default=0.15,
        metadata=_cli("workspace", "share of each class drawn once into the evaluation set"),
    )
    val_fraction: float = field(
        default=0.15,
        metadata=_cli("workspace", "share of the training images held out to tune thresholds"),
    )
    user: str | None = field(default=None, metadata=_cli("workspace", "who started the run"))
    # -- optimisation (shared names with TrainConfig; fine-tuning defaults)
    epochs: int = field(default=3, metadata=_cli("optimisation"))
    batch_size: int = field(default=32, metadata=_cli("optimisation"))
    lr: float = field(default=5e-4, metadata=_cli("optimisation"))
    weight_decay: float = field(default=0.02, metadata=_cli("optimisation"))
    warmup_epochs: float = field(default=0.3, metadata=_cli("optimisation"))
    patience: int = field(default=2, metadata=_cli("optimisation"))
    aug_strength: float = field(default=0.5, metadata=_cli("optimisation"))
    max_minutes: float | None = field(default=None, metadata=_cli("optimisation"))
    # -- run
    seed: int = field(default=0, metadata=_cli("run"))
    device: str = field(default="auto", metadata=_cli("run", choices=["auto", "cpu", "cuda"]))
    threads: int | None = field(default=None, metadata=_cli("run"))
    version: str | None = field(
        default=None, metadata=_cli("run", "new version id (default: ft-<UTC timestamp>)")
    )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v
            for f in fields(self)
        }


WORKSPACE_ONLY = frozenset(
    {"workspace", "from_version", "replay_per_class", "min_per_class", "eval_fraction"}
    | {"val_fraction", "user"}
)


def add_workspace_arguments(p: argparse.ArgumentParser, shared: frozenset[str]) -> None:
    """Add the workspace-only options to a parser that already has ``shared`` (TrainConfig's).

    The shared options' defaults become ``None`` so a value not given can be told apart: it takes
    the fine-tuning default (:func:`from_args`) or the from-scratch one (the folder mode).
    """
    add_arguments(p, FinetuneConfig, skip=frozenset(_names() - WORKSPACE_ONLY))
    for action in p._actions:
        if action.dest == "workspace":
            action.required = False
    p.set_defaults(workspace=None, **{name: None for name in shared if name in _names()})


def _names() -> set[str]:
    return {f.name for f in fields(FinetuneConfig)}


def from_args(args: argparse.Namespace) -> FinetuneConfig:
    """The configuration of parsed arguments; ``None`` (not given) takes this class's default."""
    kw = {}
    for f in fields(FinetuneConfig):
        v = getattr(args, f.name, None)
        if v is None and f.default is not MISSING:
            continue
        kw[f.name] = v
    return FinetuneConfig(**kw)
