"""Box guidance: train the network to look at the defect, using the NEU-DET boxes.

Two things, both on the training split only:

* **Outside-box evidence penalty** (:func:`outside_box_share`). With global average pooling a
  class's logit is the mean of its class activation map (CAM, the classifier applied at every
  position of the last feature map) plus a bias. For each class present in a plate and boxed, the
  share of the positive CAM that lies outside the class's boxes is added to the loss: the model
  is rewarded for putting its evidence where the defect is, which is what a region explanation
  then shows an inspector.
* **Composite plates** (:func:`composite`). A boxed defect from one plate is blended into another
  plate (shifted by the difference of the plates' mean brightness, edges feathered) and the plate is labelled
  with both classes: real NEU plates rarely show two defects, so the rare combinations get
  examples, and the box tells where the pasted class's evidence must be.

Masks are (N, K, S, S) uint8 at the model's input size: 1 inside a box of class k.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inspector.domain import ModelError
from inspector.training.data import Sample
from inspector.voc import box_mask, det_xml_for, read_sized_boxes


def box_masks(
    samples: Sequence[Sample], classes: Sequence[str], size: int, boxes_dir: Path
) -> torch.Tensor:
    """(N, K, size, size) uint8 masks of every sample's boxes, per class (zeros without boxes)."""
    index = {c: k for k, c in enumerate(classes)}
    out = np.zeros((len(samples), len(classes), size, size), np.uint8)
    for i, s in enumerate(samples):
        xml = det_xml_for(s.path, boxes_dir)
        if xml is None:
            continue
        ref, boxes = read_sized_boxes(xml)
        for b in boxes:
            k = index.get(b.name)
            if k is not None:
                out[i, k] |= box_mask((size, size), [b], ref).astype(np.uint8)
    return torch.from_numpy(out)


class WithFeatures(torch.nn.Module):
    """A timm classifier that also returns its last feature map (for the CAM), DDP-friendly."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats = self.net.forward_features(x)
        return self.net.forward_head(feats), feats


def class_maps(net: torch.nn.Module, feats: torch.Tensor) -> torch.Tensor:
    """(B, K, h, w) class activation maps: the linear classifier applied at every position."""
    weight = net.get_classifier().weight  # (K, C)
    if weight.shape[1] != feats.shape[1]:  # e.g. MobileNetV3: a hidden layer after the pooling
        raise ModelError(
            "box guidance needs a classifier right after the global pooling "
            f"(features {feats.shape[1]}, classifier input {weight.shape[1]}): use an "
            "EfficientNet(-Lite) or ResNet architecture"
        )
    return torch.einsum("bchw,kc->bkhw", feats.float(), weight.float())


def outside_box_share(cam: torch.Tensor, masks: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean, over (plate, class) pairs present and boxed, of the positive CAM's share outside
    the class's boxes (0 = all evidence inside the boxes). ``masks`` at input resolution."""
    inside = F.adaptive_avg_pool2d(masks.float(), cam.shape[-2:])  # share of each cell in a box
    pos = F.relu(cam)
    total = pos.sum(dim=(-2, -1))
    outside = (pos * (1 - inside)).sum(dim=(-2, -1))
    use = (y >= 0.5) & (masks.flatten(2).amax(-1) > 0)
    if not use.any():
        return cam.new_zeros(())
    return (outside / (total + 1e-6))[use].mean()


def composite(
    x: torch.Tensor,
    masks: torch.Tensor,
    y: torch.Tensor,
    primary: torch.Tensor,
    g: torch.Generator,
    prob: float,
    target: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Blend a boxed defect of another plate (of another class) into a share ``prob`` of the batch.

    ``x`` (B, 1, S, S) float in [0, 1]; ``masks`` (B, K, S, S); ``y`` (B, K) targets; ``primary``
    (B,) folder classes. The pasted class gets target ``target`` (below 1, so the plate's own
    class stays first). Returns new (x, masks, y); the inputs are not modified.
    """
    b = x.shape[0]
    if prob <= 0 or b < 2:
        return x, masks, y
    x, masks, y = x.clone(), masks.clone(), y.clone()
    chosen = torch.nonzero(torch.rand(b, generator=g) < prob).flatten().tolist()
    donors = torch.randint(0, b, (b,), generator=g).tolist()
    for i in chosen:
        j = donors[i]
        kj = int(primary[j])
        if j == i or kj == int(primary[i]) or not masks[j, kj].any():
            continue
        m = masks[j, kj].float()
        if m.mean() > 0.5:  # a defect that covers the plate is not a second defect on another
            continue
        alpha = _feather(m)
        region = m > 0
        src, dst = x[j, 0], x[i, 0]
        # Match the plates' overall brightness, keeping the defect's contrast to its own plate.
        shift = dst.mean() - src.mean()
        x[i, 0] = ((1 - alpha) * dst + alpha * (src + shift)).clamp(0, 1)
        masks[i, kj] = torch.maximum(masks[i, kj], region.to(masks.dtype))
        y[i, kj] = max(float(y[i, kj]), target)
    return x, masks, y


def _feather(mask: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """A soft-edged version of a 0/1 mask (box blur), so no hard seam marks the paste."""
    k = 2 * radius + 1
    soft = F.avg_pool2d(mask[None, None], k, stride=1, padding=radius, count_include_pad=False)
    return soft[0, 0] * mask  # soft inside, zero outside


def _box_blur(x: torch.Tensor, k: int) -> torch.Tensor:
    """cv2.blur's box filter (reflect-101 border) in torch: the region explainer's "absent"."""
    lo, hi = k // 2, k - 1 - k // 2
    return F.avg_pool2d(F.pad(x, (lo, hi, lo, hi), mode="reflect"), k, stride=1)


def counterfactuals(
    x: torch.Tensor,
    masks: torch.Tensor,
    y: torch.Tensor,
    primary: torch.Tensor,
    g: torch.Generator,
    keep_prob: float,
    remove_prob: float,
    blur: int = 16,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """ "Right for the right reasons" by example: the defect alone still shows the defect, the
    plate without it does not.

    * *keep*: everything outside the plate's boxes is blurred (as the region explainer blurs an
      absent region); the labels stay.
    * *remove*: the folder class's boxes are blurred; that class's target becomes 0 (only for
      boxes covering under 60 % of the plate: a plate-wide texture has nothing left to show).

    ``x`` (B, 1, S, S) float in [0, 1]; returns new (x, masks, y), inputs untouched.
    """
    b = x.shape[0]
    if keep_prob <= 0 and remove_prob <= 0:
        return x, masks, y
    draw = torch.rand(b, generator=g)
    keep = draw < keep_prob
    remove = (draw >= keep_prob) & (draw < keep_prob + remove_prob)
    if not (keep.any() or remove.any()):
        return x, masks, y
    x, y = x.clone(), y.clone()
    blurred = _box_blur(x, blur)
    for i in torch.nonzero(keep | remove).flatten().tolist():
        if keep[i]:
            m = masks[i].amax(0).float()
            if not m.any():
                continue
            alpha = _feather(m)
            x[i, 0] = alpha * x[i, 0] + (1 - alpha) * blurred[i, 0]
        else:
            k = int(primary[i])
            m = masks[i, k].float()
            if not m.any() or m.mean() >= 0.6:
                continue
            alpha = _feather(m)
            x[i, 0] = (1 - alpha) * x[i, 0] + alpha * blurred[i, 0]
            y[i, k] = 0.0
    return x, masks, y
