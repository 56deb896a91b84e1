"""The window's heatmaps: region SHAP by default (no torch), expected gradients on request."""

from __future__ import annotations

import numpy as np
import pytest

from inspector import jobs
from inspector.controllers.heatmaps import explain_job


def test_the_default_heatmap_is_region_shap_and_names_itself(tiny_model_dir, tmp_path):
    import cv2

    from tests.conftest import synthetic_plate

    plate = tmp_path / "p.png"
    cv2.imwrite(str(plate), synthetic_plate(1, 64, seed=4))
    ws = str(tmp_path / "ws")
    firsts = []
    h = jobs.run(
        explain_job(str(tiny_model_dir), str(plate), "inclusion", ws), on_partial=firsts.append
    )
    assert h.method == "SHAP · regions (Owen values)" and h.unit == "masked images"
    assert h.values.shape == (64, 64) and h.final and not h.cached
    assert firsts and not firsts[0].final and firsts[0].samples < h.samples
    again = jobs.run(explain_job(str(tiny_model_dir), str(plate), "scratches", ws))
    assert again.cached and again.method == h.method  # every class came from the first job

    pytest.importorskip("torch", reason="expected gradients need the train extra (torch)")
    g = jobs.run(explain_job(str(tiny_model_dir), str(plate), "inclusion", ws, method="gradients"))
    assert g.method == "SHAP · expected gradients" and g.unit == "samples"
    assert g.values.shape == (64, 64) and not np.allclose(g.values, h.values)
