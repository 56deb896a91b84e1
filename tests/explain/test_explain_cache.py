"""The on-disk cache: hit, miss, survives a restart, invalidated when the model changes."""

from __future__ import annotations

import shutil

import numpy as np

from inspector import jobs
from inspector.explain import Explainer, ExplainSettings, ExplanationCache
from tests.conftest import make_model_version


def test_second_request_is_served_from_disk_and_matches(model_with_background, plate_png, tmp_path):
    cache = ExplanationCache(tmp_path / "explanations")
    explainer = Explainer(model_with_background, cache=cache)
    assert explainer.cached(plate_png) is None  # miss
    first = jobs.run(explainer.explain(plate_png))
    assert not first.from_cache and len(cache) == 1

    # a new Explainer and a new cache object: as after restarting the application
    again = Explainer(model_with_background, cache=tmp_path / "explanations")
    hit = again.cached(plate_png)
    assert hit is not None and hit.from_cache
    assert hit.maps.shape == first.maps.shape == (3, 96, 80)
    np.testing.assert_allclose(
        hit.maps, first.maps, rtol=2e-3, atol=1e-3 * np.abs(first.maps).max()
    )
    np.testing.assert_allclose(hit.logits, first.logits)
    assert hit.background_source == first.background_source
    steps = []
    hit_again = jobs.run(again.explain(plate_png), on_progress=steps.append)
    assert hit_again.from_cache and [p.message for p in steps] == ["from cache"]


def test_other_settings_miss(model_with_background, plate_png, tmp_path):
    jobs.run(Explainer(model_with_background, cache=tmp_path / "c").explain(plate_png))
    other = Explainer(
        model_with_background, cache=tmp_path / "c", settings=ExplainSettings(nsamples=8)
    )
    assert other.cached(plate_png) is None


def test_a_changed_model_misses_even_under_the_same_version_name(
    tmp_path, plate_png, training_folder
):
    model = make_model_version(tmp_path / "m", version="v1", seed=0)
    cache = ExplanationCache(tmp_path / "c")
    old = Explainer(model, cache=cache, data_dir=training_folder)
    jobs.run(old.explain(plate_png))
    assert old.cached(plate_png) is not None

    # re-export different weights into the same folder and version name
    shutil.rmtree(model)
    make_model_version(tmp_path / "m", version="v1", seed=1)
    new = Explainer(model, cache=cache, data_dir=training_folder)
    assert new.model_key != old.model_key
    assert new.cached(plate_png) is None
    assert cache.prune(keep_model_key=new.model_key) == 1  # the old entry and its file go
    assert len(cache) == 0 and not list((tmp_path / "c").glob("*/*.npy"))


def test_a_deleted_cache_file_is_a_miss_not_a_crash(model_with_background, plate_png, tmp_path):
    explainer = Explainer(model_with_background, cache=tmp_path / "c")
    jobs.run(explainer.explain(plate_png))
    for f in (tmp_path / "c").glob("*/*.npy"):
        f.unlink()
    assert explainer.cached(plate_png) is None
    assert jobs.run(explainer.explain(plate_png)).from_cache is False


def test_maps_are_stored_as_float16_at_model_size(model_with_background, plate_png, tmp_path):
    jobs.run(Explainer(model_with_background, cache=tmp_path / "c").explain(plate_png))
    (f,) = (tmp_path / "c").glob("*/*.npy")
    stored = np.load(f)
    assert stored.dtype == np.float16 and stored.shape == (3, 48, 48)
