"""What a training run reports: small typed events, and their one JSON-lines form.

The training job (:func:`inspector.training.loop.train`) yields :class:`Started`, :class:`Epoch`,
:class:`EarlyStop` and :class:`TimeLimit` as :class:`~inspector.jobs.Partial` values and returns
:class:`Done`; the CLI turns each into one JSON object per line (``{"event": "<kind>", ...}``,
fields in declaration order), which is what the GUI's process runner reads. :class:`Error` is
printed by the CLI when the job raises.

>>> Error("dataset folder not found", "DatasetError").to_json()
'{"event": "error", "message": "dataset folder not found", "type": "DatasetError"}'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

__all__ = ["Done", "EarlyStop", "Epoch", "Error", "Event", "Started", "TimeLimit"]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of the training events: ``kind`` is the ``"event"`` field of the JSON line."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class Started(Event):
    kind: ClassVar[str] = "started"
    version: str
    arch: str
    size: int
    device: str
    init: str  # where the initial weights came from (see training.pretrained)
    train: int  # images per split
    val: int
    test: int
    epochs: int
    teacher: str | None


@dataclass(frozen=True, slots=True)
class Epoch(Event):
    kind: ClassVar[str] = "epoch"
    epoch: int
    epochs: int
    loss: float
    val_macro_ap: float
    val_bce: float
    val_top1: float
    lr: float
    best_epoch: int  # the epoch of the checkpoint kept (best.safetensors)
    elapsed_s: float
    eta_s: float


@dataclass(frozen=True, slots=True)
class EarlyStop(Event):
    """``patience`` epochs without improvement on the validation split."""

    kind: ClassVar[str] = "early_stop"
    epoch: int
    best_epoch: int


@dataclass(frozen=True, slots=True)
class TimeLimit(EarlyStop):
    """``max_minutes`` reached; the best checkpoint so far is exported."""

    kind: ClassVar[str] = "time_limit"


@dataclass(frozen=True, slots=True)
class Done(Event):
    """The job's result: the exported model version and its headline metrics."""

    kind: ClassVar[str] = "done"
    model_dir: str
    version: str
    best_epoch: int
    onnx_parity_max_abs_diff: float
    val: dict[str, Any]
    test: dict[str, Any] | None
    wall_time_s: float


@dataclass(frozen=True, slots=True)
class Error(Event):
    """The run failed: the exception's message and class name."""

    kind: ClassVar[str] = "error"
    message: str
    type: str
