"""The training configuration: one dataclass that is also the command line's only source of defaults.

Each field carries its command-line help and group in its metadata; :func:`add_arguments` derives
the ``inspector train`` / ``python -m inspector.training`` options from the fields (flag name,
type, default, help), so a default is written once. No torch here: ``--help`` stays instant.

>>> import argparse
>>> p = argparse.ArgumentParser()
>>> add_arguments(p)
>>> cfg = from_args(p.parse_args(["--data", "neu", "--out", "runs/a", "--lr", "1e-3"]))
>>> cfg.lr, cfg.epochs == TrainConfig.__dataclass_fields__["epochs"].default
(0.001, True)
>>> cfg.out.as_posix(), cfg.half_weights
('runs/a', False)
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["GROUPS", "TrainConfig", "add_arguments", "cli_field", "from_args"]

#: Option groups of the command line, in the order ``--help`` shows them.
GROUPS = ("data", "model", "optimisation", "run")


def _cli(group: str, help: str = "", flag: str = "", **argparse_kw: Any) -> dict[str, Any]:
    """Field metadata: the option's group, help, flag (default ``--field-name``) and extra
    argparse keywords (e.g. ``choices``)."""
    return {"group": group, "help": help, "flag": flag, "argparse": argparse_kw}


@dataclass(kw_only=True)
class TrainConfig:
    """Everything one training run depends on (saved beside the run and in the model card)."""

    # -- data
    data: Path = field(
        metadata=_cli(
            "data", "ImageFolder tree (a folder per class), optionally with SPLITS.csv (NEU layout)"
        )
    )
    boxes: Path | None = field(
        default=None,
        metadata=_cli(
            "data", "Pascal VOC XML folder: classes boxed in an image become extra labels"
        ),
    )
    out: Path = field(metadata=_cli("data", "run folder (checkpoints/, model/)"))
    # -- model
    arch: str = field(
        default="mobilenetv3_small_100", metadata=_cli("model", "timm architecture name")
    )
    size: int = field(default=200, metadata=_cli("model", "input size in pixels (square)"))
    pretrained: str = field(
        default="auto",
        metadata=_cli(
            "model",
            "'auto' (installed package or timm cache, else scratch), 'none', or a weights file",
        ),
    )
    teacher: Path | None = field(
        default=None, metadata=_cli("model", "model version folder to distil from")
    )
    distill_weight: float = field(default=0.5, metadata=_cli("model"))
    # -- optimisation
    epochs: int = field(default=60, metadata=_cli("optimisation"))
    batch_size: int = field(default=32, metadata=_cli("optimisation"))
    lr: float = field(default=3e-3, metadata=_cli("optimisation"))
    weight_decay: float = field(default=0.02, metadata=_cli("optimisation"))
    warmup_epochs: float = field(default=2.0, metadata=_cli("optimisation"))
    patience: int = field(
        default=15, metadata=_cli("optimisation", "epochs without val improvement before stopping")
    )
    aug_strength: float = field(default=1.0, metadata=_cli("optimisation", "0 = no augmentation"))
    secondary_target: float = field(
        default=0.9,
        metadata=_cli(
            "optimisation",
            "target for boxed classes other than the folder class (keeps top-1 meaningful)",
        ),
    )
    box_guidance: float = field(
        default=0.0,
        metadata=_cli(
            "optimisation",
            "weight of the penalty on class evidence outside the class's boxes (needs --boxes)",
        ),
    )
    composite_prob: float = field(
        default=0.0,
        metadata=_cli(
            "optimisation",
            "share of training plates given a boxed defect of another plate (needs --boxes)",
        ),
    )
    box_keep_prob: float = field(
        default=0.0,
        metadata=_cli(
            "optimisation",
            "share of plates shown with everything outside their boxes blurred, labels kept "
            "(needs --boxes)",
        ),
    )
    box_remove_prob: float = field(
        default=0.0,
        metadata=_cli(
            "optimisation",
            "share of plates shown with their defect's boxes blurred and that class's label "
            "removed (needs --boxes)",
        ),
    )
    corruption_prob: float = field(
        default=0.0,
        metadata=_cli(
            "optimisation",
            "share of plates given each camera corruption (noise, blur, exposure, light, JPEG)",
        ),
    )
    select: str = field(
        default="ap",
        metadata=_cli(
            "optimisation",
            "the checkpoint kept: best validation macro AP ('ap'), or best validation top-1, "
            "then AP ('top1': for a fine-tune whose AP counts second defects it does not learn)",
            choices=["ap", "top1"],
        ),
    )
    max_minutes: float | None = field(
        default=None,
        metadata=_cli("optimisation", "stop after this wall time (best checkpoint is kept)"),
    )
    # -- run
    seed: int = field(default=0, metadata=_cli("run"))
    device: str = field(default="auto", metadata=_cli("run", choices=["auto", "cpu", "cuda"]))
    threads: int | None = field(
        default=None, metadata=_cli("run", "torch CPU threads (default: all cores)")
    )
    version: str | None = field(
        default=None, metadata=_cli("run", "model version id (default: neu-<UTC timestamp>)")
    )
    parent: str | None = field(
        default=None, metadata=_cli("run", "version this one was fine-tuned from")
    )
    half_weights: bool = field(
        default=False,
        metadata=_cli(
            "run", "round weights to float16 before evaluation and export (half the file size)"
        ),
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The configuration with paths as strings (config.json, the model card)."""
        return {
            f.name: str(v) if isinstance(v := getattr(self, f.name), Path) else v
            for f in fields(self)
        }


#: Field metadata for other configurations built the same way (``inspector.loop.config``).
cli_field = _cli


def _scalar_type(hint: Any) -> type:
    """``Path | None`` -> ``Path``: the type argparse converts the option's text with."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [a for a in typing.get_args(hint) if a is not type(None)]
    return hint


def add_arguments(
    p: argparse.ArgumentParser, cls: type | None = None, skip: frozenset[str] = frozenset()
) -> None:
    """Add one option per field of ``cls`` (default :class:`TrainConfig`), in argument groups.

    Fields may carry ``"flag"`` in their metadata (``--from`` for ``from_version``); fields named
    in ``skip`` are left out (the parser has them already).
    """
    cls = cls or TrainConfig
    hints = typing.get_type_hints(cls)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in fields(cls):
        if f.name in skip:
            continue
        kind = _scalar_type(hints[f.name])
        kw: dict[str, Any] = dict(f.metadata["argparse"])
        if f.metadata["help"]:
            kw["help"] = f.metadata["help"]
        flag = f.metadata.get("flag") or "--" + f.name.replace("_", "-")
        if flag != "--" + f.name.replace("_", "-"):
            kw["dest"] = f.name
        group_name = f.metadata["group"]
        if group_name not in groups:
            groups[group_name] = p.add_argument_group(group_name)
        group = groups[group_name]
        if kind is bool:
            group.add_argument(flag, action="store_true", **kw)
        elif f.default is dataclasses.MISSING:
            group.add_argument(flag, required=True, type=kind, **kw)
        else:
            group.add_argument(flag, type=kind, default=f.default, **kw)


def from_args(args: argparse.Namespace) -> TrainConfig:
    """The configuration of parsed arguments (other attributes of ``args`` are ignored)."""
    return TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
