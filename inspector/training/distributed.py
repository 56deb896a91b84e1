"""``torchrun --nproc-per-node N``: who we are, and the few collective steps training needs.

torchrun sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; without them everything here is a
no-op and training runs as one process. Rank 0 is the only one that writes (checkpoints, the
exported version, the store, stdout events); :func:`barrier` keeps the others in step.
"""

from __future__ import annotations

import os
from typing import Any

import torch

__all__ = ["barrier", "broadcast", "init", "is_main", "rank", "shutdown", "world_size"]


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def _active() -> bool:
    return (
        world_size() > 1 and torch.distributed.is_available() and torch.distributed.is_initialized()
    )


def init(device: torch.device) -> torch.device:
    """Join the process group (gloo on CPU, nccl on GPU); return this rank's device."""
    if world_size() <= 1 or torch.distributed.is_initialized():
        return device
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    torch.distributed.init_process_group(backend)
    return device


def barrier() -> None:
    if _active():
        torch.distributed.barrier()


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (a small picklable value: ids, a plan)."""
    if not _active():
        return obj
    box = [obj if is_main() else None]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def shutdown() -> None:
    if _active():
        torch.distributed.destroy_process_group()
