"""The estimator: shapes, finiteness, additivity, and agreement with shap.GradientExplainer."""

from __future__ import annotations

import numpy as np
import pytest

from inspector import jobs
from inspector.explain import Explainer, ExplainSettings
from inspector.explain.background import load_background
from inspector.imageio import load_image

from .conftest import correlation


def test_one_map_per_class_at_the_image_resolution(model_with_background, plate_png):
    expl = jobs.run(Explainer(model_with_background).explain(plate_png))
    assert expl.classes == ("crazing", "inclusion", "scratches")
    assert expl.maps.shape == (3, 96, 80)  # the image's own size, not the model's 48 px
    assert expl.model_maps.shape == (3, 48, 48)
    assert expl.maps.dtype == np.float32 and np.isfinite(expl.maps).all()
    assert (expl.maps > 0).any() and (expl.maps < 0).any()  # signed: toward and against
    assert expl.background_source.startswith("training data")


def test_attributions_add_up_to_logit_minus_background_mean(model_with_background, plate_png):
    # Expected gradients is additive in expectation: Σ φ ≈ f(x) − E[f(background)].
    settings = ExplainSettings(nsamples=256, smooth_sigma=0.0)
    expl = jobs.run(Explainer(model_with_background, settings=settings).explain(plate_png))
    target = expl.logits - expl.base_values
    sums = expl.maps.sum(axis=(1, 2))
    assert np.abs(target).max() > 0
    np.testing.assert_allclose(sums, target, rtol=0.1, atol=0.1 * np.abs(target).max())
    # resizing to the image's resolution keeps the totals
    np.testing.assert_allclose(
        sums, expl.model_maps.sum(axis=(1, 2)), rtol=0.02, atol=1e-3 * np.abs(target).max()
    )


def test_same_maps_as_shap_gradient_explainer_on_same_background_and_seed(
    model_with_background, plate_png
):
    import shap
    import torch

    nsamples, seed = 48, 7
    settings = ExplainSettings(nsamples=nsamples, seed=seed, sampling="shap", smooth_sigma=0.0)
    explainer = Explainer(model_with_background, settings=settings)
    ours = jobs.run(explainer.explain(plate_png)).model_maps

    card = explainer.card
    bg = load_background(model_with_background / "background.npz").tensor(card)
    x = card.preprocessing.apply(load_image(plate_png))
    ref = shap.GradientExplainer(explainer._torch_model(), torch.from_numpy(bg), batch_size=64)
    sv = ref.shap_values(torch.from_numpy(x[None]), nsamples=nsamples, rseed=seed)
    assert sv.shape == (1, 1, 48, 48, 3)  # shap puts the class axis last
    for k in range(3):
        assert correlation(ours[k], sv[0, :, :, :, k].sum(0)) >= 0.95
    np.testing.assert_allclose(
        ours, np.moveaxis(sv[0].sum(0), -1, 0), rtol=1e-3, atol=1e-4 * np.abs(sv).max()
    )


def test_a_subset_of_classes_is_the_same_as_in_the_full_run(model_with_background, plate_png):
    explainer = Explainer(model_with_background, settings=ExplainSettings(smooth_sigma=0.0))
    full = jobs.run(explainer.explain(plate_png, use_cache=False))
    one = jobs.run(explainer.explain(plate_png, classes=["scratches"]))
    assert one.classes == ("scratches",)
    np.testing.assert_allclose(one.map("scratches"), full.map("scratches"), rtol=1e-4, atol=1e-7)
    with pytest.raises(KeyError):
        one.map("crazing")


def test_same_seed_same_maps_different_seed_different_noise(model_with_background, plate_png):
    a = jobs.run(Explainer(model_with_background).explain(plate_png)).maps
    b = jobs.run(Explainer(model_with_background).explain(plate_png)).maps
    c = jobs.run(
        Explainer(model_with_background, settings=ExplainSettings(seed=1)).explain(plate_png)
    ).maps
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
