"""Parallel folder scoring (inspector.runtime.pipeline) gives what sequential scoring gives: the
same probabilities, in the same order, every bad file reported once and the rest scored. Real ORT
sessions throughout (the shipped model on NEU plates, a tiny exported model elsewhere)."""

from __future__ import annotations

import os
import shutil
import sys
import threading

import numpy as np
import pytest

from inspector.domain import ImageLoadError, Prediction, PredictionError
from inspector.jobs import Cancelled, run
from inspector.paths import default_model_dir
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.pipeline import folder_predictor, score_in_parallel

from .edges.corpus import plate


def _bad_files(tmp_path):
    garbage = tmp_path / "garbage.bmp"
    garbage.write_bytes(b"BM not really a bitmap")
    cut = tmp_path / "cut.bmp"
    plate(tmp_path / "whole.bmp", size=200)
    cut.write_bytes((tmp_path / "whole.bmp").read_bytes()[:-500])
    return [garbage, cut, tmp_path / "missing.bmp"]


def _same(a: list, b: list) -> None:
    assert [type(x) for x in a] == [type(x) for x in b]
    assert [str(x.path) for x in a] == [str(x.path) for x in b]
    for x, y in zip(a, b, strict=True):
        if isinstance(x, Prediction):
            np.testing.assert_allclose(x.probabilities, y.probabilities, atol=1e-6)
        else:
            assert x.reason == y.reason


def test_parallel_scoring_equals_sequential_on_neu_plates(neu_dir, tmp_path):
    files = sorted(neu_dir.glob("*/*_1?.bmp"))[:48]
    bad = _bad_files(tmp_path)
    paths = files[:5] + bad[:1] + files[5:30] + bad[1:] + files[30:]
    pred = folder_predictor(default_model_dir(), device="cpu")
    # one file per batch: sequential scoring in the paths' own order
    sequential = list(pred.predict_paths(paths, batch_size=1))
    for workers, chunk in ((2, 8), (2, 3), (3, 1), (1, 8)):
        parallel = list(score_in_parallel(pred, paths, chunk=chunk, workers=workers))
        _same(parallel, sequential)
    # order is the order of the paths, bad files included, each exactly once
    assert [str(x.path) for x in parallel] == [str(p) for p in paths]
    assert sum(isinstance(x, ImageLoadError) for x in parallel) == 3


def test_nan_scores_stay_errors_in_parallel(tiny_model_dir, tmp_path):
    import onnx
    from onnx import numpy_helper

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    m = onnx.load(str(model / "model.onnx"))
    for init in m.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.ndim == 1:
            init.CopyFrom(numpy_helper.from_array(np.full_like(arr, np.nan), init.name))
    onnx.save(m, str(model / "model.onnx"))
    files = [plate(tmp_path / f"p{i}.png", value=50 + i) for i in range(5)]
    out = list(score_in_parallel(OrtPredictor(model, device="cpu"), files, chunk=2, workers=2))
    assert len(out) == 5 and all(isinstance(x, PredictionError) for x in out)


def _score_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("inspector-score")]


def test_cancel_stops_between_chunks_and_leaves_no_threads(tiny_model_dir, tmp_path):
    files = [plate(tmp_path / f"p{i}.png") for i in range(40)]
    seen: list = []
    gen = score_in_parallel(
        OrtPredictor(tiny_model_dir, threads=1),
        files,
        chunk=4,
        workers=2,
        cancel=lambda: len(seen) >= 8,
    )
    with pytest.raises(Cancelled):
        for item in gen:
            seen.append(item)
    assert 8 <= len(seen) < 40
    assert not _score_threads()


def test_store_scoring_records_every_file_in_order(tiny_model_dir, tmp_path):
    from inspector.controllers.labels import LabelService
    from inspector.controllers.scoring import score_paths

    files = [str(plate(tmp_path / f"p{i:02}.png", value=40 + 5 * i)) for i in range(30)]
    files.insert(7, str(_bad_files(tmp_path)[0]))
    service = LabelService.open(tmp_path / "ws", "tester", "inspector")
    pred = OrtPredictor(tiny_model_dir, threads=1)
    service.register_model(pred.version, pred.classes, pred.thresholds, str(tiny_model_dir))
    batches, progress = [], []
    scored = run(
        score_paths(pred, files, service, batch_size=4),
        on_partial=batches.append,
        on_progress=lambda p: progress.append((p.done, p.total)),
    )
    service.close()
    assert scored == 30
    assert [p.path for b in batches for p in b.predictions] == [
        f for f in files if "garbage" not in f
    ]
    assert [e.path for b in batches for e in b.errors] == [files[7]]
    assert set().union(*(b.states for b in batches)) == set(files) - {files[7]}
    assert progress[-1] == (31, 31)
    expected = {
        p.path: p.probabilities for p in pred.predict_paths(files) if isinstance(p, Prediction)
    }
    for b in batches:
        for p in b.predictions:
            np.testing.assert_allclose(p.probabilities, expected[p.path], atol=1e-6)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_workers_can_run_below_the_callers_priority(tiny_model_dir, tmp_path):
    seen: list[int] = []
    pred = OrtPredictor(tiny_model_dir, threads=1)

    class Recording:  # the real predictor, plus the priority of the thread that called it
        def predict_paths(self, paths, batch_size):
            seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
            return pred.predict_paths(paths, batch_size=batch_size)

    files = [plate(tmp_path / f"p{i}.png") for i in range(8)]
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    out = list(score_in_parallel(Recording(), files, chunk=2, workers=2, nice=5))
    assert len(out) == 8 and seen and all(p == min(mine + 5, 19) for p in seen)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
