"""The explainer runs as a generator: progress, cancel mid-way, usable from another thread."""

from __future__ import annotations

import threading

from inspector.explain import Explainer, ExplainSettings


def test_progress_is_reported_and_reaches_the_end(model_with_background, plate_png):
    job = Explainer(model_with_background).explain(plate_png)
    steps = list(job)
    assert steps[-1].done == steps[-1].total and steps[-1].total >= 4  # forward + 3 classes
    assert job.result is not None and not job.cancelled


def test_cancel_mid_way_stops_early_and_caches_nothing(model_with_background, plate_png, tmp_path):
    settings = ExplainSettings(nsamples=64, batch_size=16)  # 4 chunks × (1 + 3 classes) steps
    explainer = Explainer(model_with_background, settings=settings, cache=tmp_path / "c")
    stop = threading.Event()
    job = explainer.explain(plate_png, cancel=stop)
    seen = []
    for p in job:
        seen.append(p)
        if p.done >= 3:
            stop.set()
    assert job.cancelled and job.result is None
    assert seen[-1].done < seen[-1].total
    assert explainer.cached(plate_png) is None  # nothing half-done was stored


def test_runs_in_a_worker_thread_with_a_callable_cancel(model_with_background, plate_png):
    explainer = Explainer(model_with_background)
    out = {}

    def work():
        out["result"] = explainer.explain(plate_png, cancel=lambda: False).run()

    t = threading.Thread(target=work)
    t.start()
    t.join(60)
    assert out["result"].maps.shape == (3, 96, 80)
