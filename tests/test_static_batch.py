"""Graphs with a fixed batch axis (inspector.runtime.shapes) answer every batch size exactly as
the dynamic graph does: padding never leaks, short tails and empty batches work."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.paths import default_model_dir
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.shapes import FixedBatchSession


@pytest.fixture(scope="module")
def pair(tiny_model_dir):
    return (
        OrtPredictor(tiny_model_dir, device="cpu", threads=1),
        OrtPredictor(tiny_model_dir, device="cpu", threads=1, static_batch=4),
    )


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 9, 13])
def test_any_batch_size_gives_the_dynamic_graphs_logits(pair, n):
    dynamic, fixed = pair
    assert isinstance(fixed._session, FixedBatchSession) and fixed._session.batch == 4
    spec = dynamic.card.preprocessing
    x = np.random.default_rng(n).normal(size=(n, spec.channels, spec.size, spec.size))
    x = x.astype(np.float32)
    want, got = dynamic.logits(x), fixed.logits(x)
    assert got.shape == want.shape == (n, len(dynamic.classes))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_shipped_model_fixed_at_8_matches(neu_dir):
    dynamic = OrtPredictor(default_model_dir(), device="cpu", threads=1)
    fixed = OrtPredictor(default_model_dir(), device="cpu", threads=1, static_batch=8)
    files = sorted(neu_dir.glob("*/*_2?.bmp"))[:11]
    a = {p.path: p.probabilities for p in dynamic.predict_paths(files)}
    b = {p.path: p.probabilities for p in fixed.predict_paths(files, batch_size=8)}
    assert a.keys() == b.keys() and len(a) == 11
    for k in a:
        np.testing.assert_allclose(b[k], a[k], atol=1e-6)
    assert fixed.device == "CPU" and fixed.providers == dynamic.providers


def test_a_graph_without_a_symbolic_batch_axis_runs_as_it_is(tiny_model_dir, tmp_path):
    import shutil

    import onnx

    model = tmp_path / "fixed"
    shutil.copytree(tiny_model_dir, model)
    m = onnx.load(str(model / "model.onnx"))
    for v in (*m.graph.input, *m.graph.output):
        v.type.tensor_type.shape.dim[0].dim_value = 1
    onnx.save(m, str(model / "model.onnx"))
    pred = OrtPredictor(model, device="cpu", threads=1, static_batch=4)
    assert not isinstance(pred._session, FixedBatchSession)
    spec = pred.card.preprocessing
    x = np.zeros((1, spec.channels, spec.size, spec.size), np.float32)
    assert pred.logits(x).shape == (1, len(pred.classes))
