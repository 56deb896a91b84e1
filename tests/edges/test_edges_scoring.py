"""``predict`` scores files through one job (inspector.jobs): per-file results as partials, a
bad file is a result too, progress counts files, and cancel stops between steps."""

from __future__ import annotations

import pytest

from inspector.domain import ImageLoadError, Prediction
from inspector.jobs import Cancelled, run
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.scoring import score_files

from .corpus import plate


def test_score_files_reports_every_file_once_and_counts_failures(tiny_model_dir, tmp_path):
    files = [plate(tmp_path / f"p{i}.png", value=60 + 10 * i) for i in range(11)]
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    files.insert(5, tmp_path / "bad.png")
    seen, progress = [], []
    summary = run(
        score_files(OrtPredictor(tiny_model_dir), files, batch_size=32),
        on_progress=lambda p: progress.append((p.done, p.total)),
        on_partial=seen.append,
    )
    # within a step a decode error comes out before the step's scores; each file exactly once
    assert sorted(str(r.path) for r in seen) == sorted(str(f) for f in files)
    by_path = {str(r.path): r for r in seen}
    assert isinstance(by_path[str(tmp_path / "bad.png")], ImageLoadError)
    assert sum(isinstance(r, Prediction) for r in seen) == 11
    assert (summary.scored, summary.failed) == (11, 1)
    assert progress[-1] == (12, 12) and len(progress) >= 2  # more than one step


def test_score_files_stops_when_cancelled(tiny_model_dir, tmp_path):
    files = [plate(tmp_path / f"p{i}.png") for i in range(20)]
    seen: list = []
    job = score_files(OrtPredictor(tiny_model_dir), files, cancel=lambda: len(seen) >= 8)
    with pytest.raises(Cancelled):
        run(job, on_partial=seen.append)
    assert 8 <= len(seen) < 20
