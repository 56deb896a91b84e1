"""Build the torch network named in a model card and load its safetensors weights.

torch and timm are imported inside the functions: the GUI and ``inspector predict`` never pay
for them unless they explain or fine-tune.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.domain import ModelError
from inspector.registry import WEIGHTS_FILE, ModelCard, read_card
from inspector.runtime.weights import read_safetensors

if TYPE_CHECKING:
    import torch


def build_model(architecture: str, num_classes: int, in_chans: int = 1) -> torch.nn.Module:
    """A timm backbone with a ``num_classes`` logit head (sigmoid is applied by the caller/ONNX)."""
    import timm

    try:
        return timm.create_model(
            architecture, pretrained=False, num_classes=num_classes, in_chans=in_chans
        )
    except RuntimeError as exc:  # timm raises RuntimeError for unknown names
        raise ModelError(f"unknown architecture {architecture!r}: {exc}") from None


def load_torch_model(
    model_dir: str | os.PathLike[str], device: str = "cpu"
) -> tuple[torch.nn.Module, ModelCard]:
    """Rebuild a model version as an eval-mode torch module from its card and safetensors weights."""
    d = Path(model_dir)
    card = read_card(d)
    wfile = d / WEIGHTS_FILE
    if not wfile.is_file():
        raise ModelError(
            f"{d}: {WEIGHTS_FILE} is missing (needed for explanations and fine-tuning)"
        )
    model = build_model(card.architecture, len(card.classes), card.preprocessing.channels)
    state = read_safetensors(wfile, device=device)
    broken = [k for k, v in state.items() if v.is_floating_point() and not v.isfinite().all()]
    if broken:  # every explanation and fine-tuned model would be NaN: say so once, here
        raise ModelError(
            f"{wfile}: {len(broken)} weight tensor(s) hold NaN or infinite values "
            f"(first: {broken[0]}); the file is corrupt: copy or export the model again"
        )
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"{wfile}: weights do not fit {card.architecture}: {exc}") from None
    return model.to(device).eval(), card
