"""Region-level SHAP (Owen values) over the ONNX model: additive, coarse-to-fine, cached, torch-free."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from inspector import jobs
from inspector.explain import ExplanationCache
from inspector.explain.regions import RegionExplainer, RegionSettings, blur_baseline, owen_values
from inspector.imageio import load_image
from inspector.runtime.ort import OrtPredictor


def test_each_map_adds_up_to_the_logit_minus_the_logit_of_the_blurred_image(
    tiny_model_dir, plate_png
):
    explainer = RegionExplainer(tiny_model_dir, settings=RegionSettings(max_evals=120))
    expl = jobs.run(explainer.explain(plate_png, use_cache=False))
    assert expl.maps.shape == (3, 96, 80)  # the image's own resolution, every class
    card = explainer.card
    x = card.preprocessing.apply(load_image(plate_png))
    ref = OrtPredictor(tiny_model_dir).logits(
        np.stack([x, blur_baseline(x, explainer.settings.blur)])
    )
    np.testing.assert_allclose(expl.logits, ref[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(expl.base_values, ref[1], rtol=1e-5, atol=1e-5)
    gap = ref[0] - ref[1]
    assert np.abs(gap).max() > 1e-3  # the blur changes the output: there is something to share
    np.testing.assert_allclose(expl.maps.sum(axis=(1, 2)), gap, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(expl.model_maps.sum(axis=(1, 2)), gap, rtol=1e-4, atol=1e-5)


def test_credit_goes_to_the_region_the_output_depends_on():
    # an "output" that reads one patch only: every bit of credit must land in that patch
    def f(batch: np.ndarray) -> np.ndarray:
        return batch[:, 0, 16:24, 32:40].mean((1, 2))[:, None]

    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 0.1, (1, 64, 64)).astype(np.float32)
    vals = jobs.run(owen_values(f, x, np.zeros_like(x), max_evals=400))[0]
    patch = np.zeros((64, 64), bool)
    patch[16:24, 32:40] = True
    assert vals[~patch].sum() == pytest.approx(0.0, abs=1e-6)
    assert vals[patch].sum() == pytest.approx(float(x[0][patch].mean()), rel=1e-5)
    assert (vals[patch] > 0).all()

    # an output reading every pixel: credit spread over the whole image, still additive
    spread = jobs.run(
        owen_values(lambda b: b.mean((1, 2, 3))[:, None], x, np.zeros_like(x), max_evals=200)
    )[0]
    assert spread.sum() == pytest.approx(float(x.mean()), rel=1e-5)
    assert (spread > 0).all()


def test_a_first_look_comes_first_from_fewer_evaluations_then_the_final_map(
    tiny_model_dir, plate_png
):
    settings = RegionSettings(max_evals=200, first_look=20, batch_size=20)
    explainer = RegionExplainer(tiny_model_dir, settings=settings)
    seen = []
    final = jobs.run(explainer.explain(plate_png, use_cache=False), on_partial=seen.append)
    assert len(seen) == 1
    first = seen[0]
    assert not first.final and first.samples < final.samples == 200 and final.final
    # the first look already keeps SHAP's meaning: it adds up to the same totals
    np.testing.assert_allclose(
        first.model_maps.sum((1, 2)), final.model_maps.sum((1, 2)), rtol=1e-4, atol=1e-5
    )
    # and it is coarser: fewer distinct values (regions) than the final map
    assert len(np.unique(first.model_maps[0])) < len(np.unique(final.model_maps[0]))


def test_one_class_asked_all_classes_cached_and_served_from_disk(
    tiny_model_dir, plate_png, tmp_path
):
    cache = ExplanationCache(tmp_path / "explanations")
    explainer = RegionExplainer(tiny_model_dir, cache=cache, settings=RegionSettings(max_evals=80))
    assert explainer.cached(plate_png) is None
    one = jobs.run(explainer.explain(plate_png, classes=["scratches"]))
    assert one.classes == ("scratches",) and not one.from_cache and len(cache) == 1

    again = RegionExplainer(
        tiny_model_dir, cache=tmp_path / "explanations", settings=RegionSettings(max_evals=80)
    )
    hit = jobs.run(again.explain(plate_png))  # every class, from the one computation
    assert hit.from_cache and hit.classes == again.classes
    np.testing.assert_allclose(
        hit.map("scratches"), one.map("scratches"), atol=2e-3 * np.abs(one.maps).max()
    )
    other = RegionExplainer(
        tiny_model_dir, cache=tmp_path / "explanations", settings=RegionSettings(max_evals=60)
    )
    assert other.cached(plate_png) is None  # another budget is another cache entry


def test_cancel_stops_and_caches_nothing(tiny_model_dir, plate_png, tmp_path):
    cache = ExplanationCache(tmp_path / "c")
    explainer = RegionExplainer(tiny_model_dir, cache=cache)
    calls = iter(range(1000))
    with pytest.raises(jobs.Cancelled):
        jobs.run(explainer.explain(plate_png, cancel=lambda: next(calls) >= 3))
    assert len(cache) == 0


def test_needs_neither_torch_nor_shap(tiny_model_dir, plate_png):
    code = (
        "import sys\n"
        "from inspector import jobs\n"
        "from inspector.explain.regions import RegionExplainer, RegionSettings\n"
        f"e = RegionExplainer({str(tiny_model_dir)!r}, settings=RegionSettings(max_evals=40))\n"
        f"m = jobs.run(e.explain({str(plate_png)!r}, use_cache=False)).maps\n"
        "assert m.shape == (3, 96, 80), m.shape\n"
        "print(sorted(k for k in ('torch', 'shap', 'timm') if k in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"


def test_the_budget_goes_to_the_weighted_output_and_every_output_stays_additive():
    def f(batch: np.ndarray) -> np.ndarray:  # two "classes", each reading its own patch
        return np.stack(
            [batch[:, 0, 16:24, 32:40].mean((1, 2)), batch[:, 0, 40:48, 8:16].mean((1, 2))], 1
        )

    x = np.random.default_rng(1).normal(1.0, 0.1, (1, 64, 64)).astype(np.float32)
    base = np.zeros_like(x)
    vals = jobs.run(owen_values(f, x, base, max_evals=400, output_weights=np.array([1.0, 0.0])))
    inside = np.zeros((2, 64, 64), bool)
    inside[0, 16:24, 32:40] = inside[1, 40:48, 8:16] = True
    share = [vals[k][inside[k]].sum() / vals[k].sum() for k in (0, 1)]
    assert share[0] == pytest.approx(1.0, abs=1e-5)  # the weighted class: resolved to its patch
    assert share[1] < 0.9  # the other: still spread over coarse regions
    np.testing.assert_allclose(vals.sum((1, 2)), f(x[None])[0], rtol=1e-5)
    assert RegionSettings().output_weights(np.array([-3.0, 2.0, 0.5])).tolist() == [0.1, 1, 1]
    assert RegionSettings().output_weights(np.array([-3.0, -1.0])).tolist() == [0.1, 1]
