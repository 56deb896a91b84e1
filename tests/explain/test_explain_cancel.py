"""The explainer runs as a generator: progress, cancel mid-way, usable from another thread."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from inspector import jobs
from inspector.domain import Progress
from inspector.explain import Explainer, ExplainSettings

from .conftest import correlation


def test_progress_is_reported_and_reaches_the_end(model_with_background, plate_png):
    steps = []
    result = jobs.run(Explainer(model_with_background).explain(plate_png), steps.append)
    assert steps[-1].done == steps[-1].total and steps[-1].total >= 4  # forward + 3 classes
    assert result.maps.shape == (3, 96, 80)


def test_cancel_mid_way_stops_early_and_caches_nothing(model_with_background, plate_png, tmp_path):
    settings = ExplainSettings(nsamples=64, batch_size=16)  # 4 chunks × (1 + 3 classes) steps
    explainer = Explainer(model_with_background, settings=settings, cache=tmp_path / "c")
    stop = threading.Event()
    seen = []

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.done >= 3:
            stop.set()

    with pytest.raises(jobs.Cancelled):
        jobs.run(explainer.explain(plate_png, cancel=stop.is_set), on_progress=progress)
    assert seen[-1].done < seen[-1].total
    assert explainer.cached(plate_png) is None  # nothing half-done was stored


def test_runs_in_a_worker_thread_with_a_callable_cancel(model_with_background, plate_png):
    explainer = Explainer(model_with_background)
    out = {}

    def work():
        out["result"] = jobs.run(explainer.explain(plate_png, cancel=lambda: False))

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert out["result"].maps.shape == (3, 96, 80)


def test_first_looks_arrive_before_the_final_map_and_do_not_change_it(
    model_with_background, plate_png
):
    progressive = ExplainSettings(nsamples=24, first_look=8, batch_size=8)
    looks = []
    job = Explainer(model_with_background, settings=progressive).explain(plate_png)
    final = jobs.run(job, on_partial=looks.append)
    assert [look.samples for look in looks] == [8, 16]  # then 24 in the final result
    assert all(not look.final for look in looks) and final.final and final.samples == 24
    assert looks[0].maps.shape == final.maps.shape == (3, 96, 80)
    assert np.array_equal(looks[0].logits, final.logits)
    # a first look is a noisier estimate of the same map, not another map
    corr = [correlation(a, b) for a, b in zip(looks[1].maps, final.maps, strict=True)]
    assert min(corr) > 0.5

    # chunking is not part of the result: one big batch gives the same final map
    one_batch = ExplainSettings(nsamples=24, first_look=24, batch_size=24)
    whole = jobs.run(Explainer(model_with_background, settings=one_batch).explain(plate_png))
    np.testing.assert_allclose(whole.maps, final.maps, rtol=1e-4, atol=1e-6)
    assert one_batch.digest() == progressive.digest()  # and the cache cannot tell them apart
