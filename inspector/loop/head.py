"""Start from the parent's weights: keep the backbone, keep, grow or replace the classifier head.

:func:`initial_weights` writes a safetensors file the training loop loads as its ``pretrained``
weights: every backbone tensor is the parent's; the head has one row per class of the new
version, copied from the parent for the classes it knows and freshly initialised for new ones
(a whole new product line, no class in common, gets a fresh head).
"""

from __future__ import annotations

from pathlib import Path

import torch

from inspector.domain import ModelError
from inspector.registry import ModelCard, read_card
from inspector.runtime.torch_model import build_model, load_torch_model

__all__ = ["classifier_names", "initial_weights", "load_parent"]


def classifier_names(model: torch.nn.Module) -> set[str]:
    """State-dict keys of the classifier head (timm names it in ``pretrained_cfg``)."""
    prefix = getattr(model, "pretrained_cfg", {}).get("classifier", "classifier")
    return {k for k in model.state_dict() if k == prefix or k.startswith(prefix + ".")}


def load_parent(parent_dir: Path) -> tuple[torch.nn.Module, ModelCard]:
    """The parent as a torch module; a corrupt or mismatched folder is a one-line ModelError."""
    try:
        return load_torch_model(parent_dir)  # NaN and shape checks
    except ModelError as exc:
        if "do not fit" in str(exc):
            card = read_card(parent_dir)
            raise ModelError(
                f"{parent_dir}: card.json lists {len(card.classes)} classes for "
                f"{card.architecture}, but weights.safetensors does not fit them "
                "(a card from another version?)"
            ) from None
        raise ModelError(" ".join(str(exc).split())) from None  # torch's messages span lines


def initial_weights(
    parent_dir: Path, classes: tuple[str, ...], out_file: Path, seed: int = 0
) -> tuple[ModelCard, str]:
    """Write the new version's starting weights; return (parent card, "kept|grown|replaced")."""
    from safetensors.torch import save_file

    parent, card = load_parent(parent_dir)
    torch.manual_seed(seed)
    child = build_model(card.architecture, len(classes), card.preprocessing.channels)
    head = classifier_names(child)
    if head != classifier_names(parent):
        raise ModelError(f"{parent_dir}: cannot find the classifier head of {card.architecture}")
    src, dst = parent.state_dict(), child.state_dict()
    rows = [(i, card.classes.index(c)) for i, c in enumerate(classes) if c in card.classes]
    mode = "kept" if len(rows) == len(classes) == len(card.classes) else "grown"
    if not rows:
        mode = "replaced"
    state = {}
    for k, v in dst.items():
        if k not in head:
            state[k] = src[k]
            continue
        w = v.clone()
        for i, j in rows:
            w[i] = src[k][j]
        state[k] = w
    out_file.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: t.detach().contiguous() for k, t in state.items()}, str(out_file))
    return card, mode
