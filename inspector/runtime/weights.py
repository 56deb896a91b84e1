"""Read weight files without trusting them: safetensors, or a PyTorch file holding tensors only.

Every failure is a :class:`~inspector.domain.ModelError` naming the file and what to do: a
corrupt or truncated ``weights.safetensors`` (safetensors raises its own error type, which
escaped as a traceback from ``explain``, ``export model`` and ``train --teacher``), a ``.pt``
that is not a PyTorch file, or one that holds pickled objects beyond tensors, which
``torch.load(weights_only=True)`` refuses; loading those could run code, so they stay refused.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.domain import ModelError

if TYPE_CHECKING:
    import torch


def read_safetensors(path: str | Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; ModelError when it is missing, corrupt or cut short."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        return load_file(str(path), device=device)
    except SafetensorError as exc:
        detail = str(exc).removeprefix("Error while deserializing header: ")
        raise ModelError(
            f"{path}: not a readable safetensors file ({detail}); it is corrupt or incomplete: "
            "copy or export the model again"
        ) from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def read_torch_state(path: str | Path) -> object:
    """``torch.load`` of tensors only (``weights_only=True``); ModelError for anything else."""
    import torch

    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(2)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    # torch.save writes a zip archive (or, before torch 1.6, a pickle: protocol byte 0x80).
    if not zipfile.is_zipfile(path) and not head.startswith(b"\x80"):
        raise ModelError(f"{path}: not a PyTorch weights file (nor .safetensors)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)  # never unpickle code
    except pickle.UnpicklingError:
        raise ModelError(
            f"{path}: refused: it holds Python objects besides tensors, and loading those "
            "could run code; use a plain state_dict or a .safetensors file"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise ModelError(f"{path}: not a readable PyTorch weights file ({exc})") from None
