"""Batched expected gradients: all classes of one image from one set of forward passes.

Expected gradients (Erion et al. 2021; shap's ``GradientExplainer``) attributes
``f_c(x) - E_b[f_c(b)]`` to input pixels as ``E_{b, α}[(x - b) · ∂f_c/∂x (b + α(x - b))]`` with
``b`` drawn from a background set and ``α ~ U(0, 1)``. shap runs one forward *and* backward per
class; here the interpolated batch goes forward once and each class is one extra backward pass over
the retained graph (``torch.autograd.grad(..., retain_graph=True)``) — measured faster on this CPU
than ``is_grads_batched``/vmap, which fall back to slow per-sample loops for depthwise convolutions.
Parameter gradients are switched off, so backward computes input gradients only.

We explain **logits**, not probabilities: the logit is the additive score the network computes
(attributions of the whole image sum to a difference of log-odds), whereas the sigmoid saturates
near 0 and 1, so probability gradients vanish exactly for the confident predictions an inspector
wants explained. The ONNX graph outputs logits too, so both paths explain the same function.

Usage (a job: yields Progress and first-look Partials, returns the maps)::

    maps = jobs.run(expected_gradients(model, x, background, [0, 1, 2], nsamples=16))
    # (3, C, H, W) float32; raises jobs.Cancelled when cancelled
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inspector.domain import Progress
from inspector.jobs import CancelFn, Job, Partial, check, never

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class RunningEstimate:
    """The attributions after ``samples`` of the planned samples: unbiased, noisier."""

    attributions: np.ndarray  # (K, C, H, W) float32
    samples: int


def sample_plan(
    n_background: int, nsamples: int, seed: int, sampling: str = "stratified"
) -> tuple[np.ndarray, np.ndarray]:
    """Which background image and interpolation point α each sample uses.

    ``"shap"`` replays shap.GradientExplainer's draws (``np.random.seed(rseed)``, then per sample
    ``choice`` then ``uniform``), so both estimators see the same samples and must agree.
    """
    rs = np.random.RandomState(seed)
    if sampling == "shap":
        idx = np.empty(nsamples, np.int64)
        alpha = np.empty(nsamples, np.float64)
        for k in range(nsamples):
            idx[k] = rs.choice(n_background)
            alpha[k] = rs.uniform()
        return idx, alpha
    if sampling == "stratified":
        # One α per stratum of [0, 1] (Latin hypercube), and every background image used before
        # any repeats: the two biggest sources of variance at small nsamples.
        alpha = (rs.permutation(nsamples) + rs.uniform(size=nsamples)) / nsamples
        reps = -(-nsamples // n_background)
        idx = np.concatenate([rs.permutation(n_background) for _ in range(reps)])[:nsamples]
        return idx.astype(np.int64), alpha
    raise ValueError(f"unknown sampling {sampling!r}")


def prepare_model(
    model: torch.nn.Module, device: str, example: np.ndarray | None = None
) -> torch.nn.Module:
    """Eval mode, BatchNorm folded into convs (given an example input (N, C, H, W)), no parameter
    gradients (input gradients only), channels_last, on the device."""
    import torch

    from inspector.explain.fuse import fuse_conv_bn

    model = model.eval().to(device)
    if example is not None:
        model = fuse_conv_bn(model, torch.from_numpy(np.ascontiguousarray(example)).to(device))
    for p in model.parameters():
        p.requires_grad_(False)
    return model.to(memory_format=torch.channels_last)


def expected_gradients(
    model: torch.nn.Module,
    x: np.ndarray,
    background: np.ndarray,
    class_indices: Sequence[int],
    *,
    nsamples: int = 16,
    seed: int = 0,
    sampling: str = "stratified",
    batch_size: int = 32,
    first_look: int | None = None,
    device: str = "cpu",
    cancel: CancelFn = never,
) -> Job[np.ndarray]:
    """A job (:mod:`inspector.jobs`) returning (K, C, H, W) float32 attributions.

    ``x`` is one preprocessed input (C, H, W); ``background`` is (N, C, H, W) in the same space.
    ``model`` should have gone through :func:`prepare_model`.

    With ``first_look`` the samples run in chunks (``first_look``, then ``batch_size`` at a time)
    and after every chunk but the last a :class:`~inspector.jobs.Partial` carries the
    :class:`RunningEstimate` so far: an unbiased but noisier map a viewer can show while the rest
    is computed. The final result is the same.
    """
    import torch

    idx, alpha = sample_plan(len(background), nsamples, seed, sampling)
    xt = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(device)
    bg = torch.from_numpy(np.ascontiguousarray(background, np.float32)).to(device)
    classes = list(class_indices)
    acc = torch.zeros((len(classes), *xt.shape), dtype=torch.float32, device=device)
    chunks = sample_chunks(nsamples, batch_size, first_look)
    total, done = len(chunks) * (len(classes) + 1), 0
    for start, stop in chunks:
        sel = torch.from_numpy(idx[start:stop]).to(device)
        a = torch.from_numpy(alpha[start:stop].astype(np.float32)).to(device)
        base = bg[sel]
        delta = xt.unsqueeze(0) - base
        inp = (base + a.view(-1, 1, 1, 1) * delta).contiguous(memory_format=torch.channels_last)
        inp.requires_grad_(True)
        with torch.enable_grad():
            out = model(inp)
            done += 1
            yield Progress(done, total, "forward pass")
            check(cancel)
            for j, c in enumerate(classes):
                (g,) = torch.autograd.grad(out[:, c].sum(), inp, retain_graph=j + 1 < len(classes))
                acc[j] += (g * delta).sum(0)
                done += 1
                yield Progress(done, total, "gradients")
                check(cancel)
        del out, inp
        if first_look and stop < nsamples:
            yield Progress(done, total, f"{stop} of {nsamples} samples")
            yield Partial(RunningEstimate((acc / stop).cpu().numpy(), stop))
    return (acc / nsamples).cpu().numpy()


def sample_chunks(
    nsamples: int, batch_size: int, first: int | None = None
) -> list[tuple[int, int]]:
    """(start, stop) of each forward batch: ``first`` samples, then ``batch_size`` at a time."""
    bounds = [0]
    if first and first < nsamples:
        bounds.append(first)
    while bounds[-1] < nsamples:
        bounds.append(min(bounds[-1] + batch_size, nsamples))
    return list(itertools.pairwise(bounds))
