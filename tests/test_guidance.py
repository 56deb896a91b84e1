"""Box guidance in training: masks follow the plate through augmentation, composites carry both
labels, the outside-box penalty measures what it says, and a guided run trains end to end."""

from __future__ import annotations

import pytest
import torch

from inspector.domain import ModelError
from inspector.runtime.torch_model import build_model
from inspector.training import guidance
from inspector.training.augment import corruptions, geometric_with_masks


def _plate_with_spot(size: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.full((1, 1, size, size), 0.3)
    m = torch.zeros((1, 1, size, size))
    x[..., 4:12, 20:28] = 0.9  # a bright defect in the top-right corner
    m[..., 4:12, 20:28] = 1
    return x, m


def test_box_masks_move_with_the_plate_under_flips_rotations_and_affine():
    x, m = _plate_with_spot()
    xs, ms = x.repeat(16, 1, 1, 1), m.repeat(16, 1, 1, 1)
    xa, ma = geometric_with_masks(xs, ms, torch.Generator().manual_seed(3), strength=0.5)
    for xi, mi in zip(xa, ma, strict=True):
        bright = xi[0] > 0.6
        boxed = mi[0] > 0.5
        # The defect is where its mask went (up to the affine's interpolated rim).
        assert (bright & boxed).sum() >= 0.8 * bright.sum()
    assert not all(torch.equal(a, ma[0]) for a in ma)  # the transforms did vary


def test_composite_pastes_another_class_defect_and_labels_both():
    a, _ = _plate_with_spot()
    a = torch.full_like(a, 0.3)  # plate 0: plain, class 0
    b, mb = _plate_with_spot()  # plate 1: a spot of class 1
    x = torch.cat([a, b])
    masks = torch.zeros((2, 2, 32, 32))
    masks[1, 1] = mb[0, 0]
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    primary = torch.tensor([0, 1])
    g = torch.Generator().manual_seed(0)
    for _ in range(20):  # the donor is drawn at random: retry until plate 0 got plate 1's spot
        xo, mo, yo = guidance.composite(x, masks, y, primary, g, prob=1.0, target=0.9)
        if yo[0, 1] > 0:
            break
    assert yo[0].tolist() == pytest.approx(
        [1.0, 0.9]
    )  # its own class first, the pasted one just below
    assert mo[0, 1].sum() == mb.sum()  # the pasted defect's box goes with it
    assert xo[0, 0, 8, 24] > 0.35 and xo[0, 0, 25, 5] == a[0, 0, 25, 5]  # pasted, rest kept
    assert torch.equal(x[0], a[0])  # inputs untouched


def test_outside_box_share_is_zero_inside_and_one_outside():
    masks = torch.zeros((1, 1, 8, 8))
    masks[..., :4, :4] = 1
    y = torch.ones((1, 1))
    inside = torch.zeros((1, 1, 2, 2))
    inside[..., 0, 0] = 5.0
    outside = torch.zeros((1, 1, 2, 2))
    outside[..., 1, 1] = 5.0
    assert guidance.outside_box_share(inside, masks, y).item() < 1e-6
    assert guidance.outside_box_share(outside, masks, y).item() > 0.99
    # A class that is absent, or present without a box, is not penalised.
    assert guidance.outside_box_share(outside, masks, torch.zeros((1, 1))).item() == 0
    assert guidance.outside_box_share(outside, torch.zeros_like(masks), y).item() == 0


def test_the_penalty_gradient_moves_evidence_into_the_box():
    torch.manual_seed(0)
    net = build_model("tf_efficientnet_lite0", 2, 1).train()
    model = guidance.WithFeatures(net)
    x = torch.rand(4, 1, 64, 64)
    masks = torch.zeros((4, 2, 64, 64))
    masks[:, 0, :32, :32] = 1
    y = torch.tensor([[1.0, 0.0]] * 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    shares = []
    for _ in range(15):
        logits, feats = model(x)
        share = guidance.outside_box_share(guidance.class_maps(net, feats), masks, y)
        shares.append(share.item())
        opt.zero_grad()
        share.backward()
        opt.step()
    assert logits.shape == (4, 2)
    assert shares[-1] < shares[0] - 0.1


def test_an_architecture_without_a_linear_head_on_the_pooling_is_refused():
    net = build_model("mobilenetv3_small_050", 2, 1)
    feats = net.forward_features(torch.rand(1, 1, 64, 64))
    with pytest.raises(ModelError, match="box guidance needs"):
        guidance.class_maps(net, feats)


def test_corruptions_keep_range_and_are_seeded():
    x = torch.rand(8, 1, 32, 32)
    a = corruptions(x, torch.Generator().manual_seed(1), prob=0.5)
    b = corruptions(x, torch.Generator().manual_seed(1), prob=0.5)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert torch.equal(a, b) and not torch.equal(a, x)
    assert torch.equal(corruptions(x, torch.Generator(), prob=0), x)


def test_counterfactuals_keep_the_defect_or_remove_it_with_its_label():
    x, m = _plate_with_spot()
    texture = torch.rand(1, 1, 32, 32) * 0.2
    x = (x + texture).clamp(0, 1)  # some plate texture for the blur to wipe
    masks = torch.zeros((1, 2, 32, 32))
    masks[0, 1] = m[0, 0]
    y = torch.tensor([[0.0, 1.0]])
    primary = torch.tensor([1])
    g = torch.Generator().manual_seed(0)
    kept, _, ykept = guidance.counterfactuals(x, masks, y, primary, g, 1.0, 0.0, blur=8)
    gone, _, ygone = guidance.counterfactuals(x, masks, y, primary, g, 0.0, 1.0, blur=16)
    spot, plain = (slice(7, 9), slice(23, 25)), (slice(20, 30), slice(2, 12))
    assert torch.allclose(kept[0, 0][spot], x[0, 0][spot])  # the defect kept as it was
    assert kept[0, 0][plain].std() < x[0, 0][plain].std() / 2  # the rest blurred
    assert ykept.tolist() == y.tolist()
    assert gone[0, 0][spot].mean() < x[0, 0][spot].mean() - 0.2  # the defect blurred away
    assert torch.equal(gone[0, 0][plain], x[0, 0][plain])
    assert ygone.tolist() == [[0.0, 0.0]]  # and its label with it
    assert torch.equal(x, (x + 0).clamp(0, 1))
