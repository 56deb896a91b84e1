"""``inspector explain --report`` over a small labelled split with VOC boxes."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from inspector.__main__ import main
from tests.conftest import TINY_CLASSES, synthetic_plate

_PREFIX = {"crazing": "Cr", "inclusion": "In", "scratches": "Sc"}


def _dataset(root: Path) -> tuple[Path, Path]:
    data, boxes = root / "cls", root / "det"
    boxes.mkdir(parents=True)
    rows = ["path,split"]
    for ci, c in enumerate(TINY_CLASSES):
        (data / c).mkdir(parents=True)
        for n in (1, 2):
            cv2.imwrite(str(data / c / f"{_PREFIX[c]}_{n}.bmp"), synthetic_plate(ci, 64, seed=n))
            rows.append(f"{c}/{_PREFIX[c]}_{n}.bmp,test")
            (boxes / f"{c}_{n}.xml").write_text(
                "<annotation><size><width>64</width><height>64</height></size>"
                f"<object><name>{c}</name><bndbox><xmin>10</xmin><ymin>10</ymin>"
                "<xmax>40</xmax><ymax>40</ymax></bndbox></object></annotation>"
            )
    (data / "SPLITS.csv").write_text("\n".join(rows) + "\n")
    return data, boxes


def test_report_prints_a_row_per_class_and_overall(model_with_background, tmp_path, capsys):
    data, boxes = _dataset(tmp_path)
    rc = main(
        [
            "explain",
            "--report",
            "--model",
            str(model_with_background),
            "--data",
            str(data),
            "--boxes",
            str(boxes),
            "--split",
            "test",
            "--no-cache",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "SHAP box×" in out and "GradCAM box×" in out
    for c in (*TINY_CLASSES, "all"):
        row = next(ln for ln in lines if ln.startswith(c))
        assert row.split()[1] == ("6" if c == "all" else "2")  # images per row
        assert "nan" not in row  # every image had a box of its class
    # every 31×31 box covers 23 % of its 64×64 image, so 3× is possible (up to 4.3×) in all six
    assert "room for 3× in 6 of 6 images" in out and "needs 4 images at 3× or more" in out


@pytest.mark.parametrize("method", ["regions", "gradients"])
def test_report_prints_the_goal_figures_of_the_chosen_method(
    method, model_with_background, tmp_path, capsys
):
    data, boxes = _dataset(tmp_path)
    argv = ["explain", "--report", "--model", str(model_with_background), "--data", str(data)]
    rc = main([*argv, "--boxes", str(boxes), "--no-cache", "--method", method])
    assert rc == 0
    out = capsys.readouterr().out
    name = "regions (Owen values)" if method == "regions" else "expected gradients"
    assert f"method: SHAP · {name}" in out.splitlines()[0]
    head = next(ln for ln in out.splitlines() if ln.startswith("class"))
    assert head.split()[2:4] == ["point", "in-box"]
    for c in (*TINY_CLASSES, "all"):
        row = next(ln for ln in out.splitlines() if ln.startswith(c)).split()
        point, in_box = float(row[2]), float(row[3])
        assert 0.0 <= point <= 1.0 and 0.0 <= in_box <= 1.0
    assert "goal ≥ 0.95" in out and "goal ≥ 0.60" in out


def test_report_on_a_missing_split_is_a_one_line_error(model_with_background, tmp_path, capsys):
    data, _ = _dataset(tmp_path)
    rc = main(
        [
            "explain",
            "--report",
            "--model",
            str(model_with_background),
            "--data",
            str(data),
            "--split",
            "val",
            "--no-cache",
        ]
    )
    assert rc == 2 and "no rows with split 'val'" in capsys.readouterr().err


def test_a_cancelled_report_stops_before_the_next_image(model_with_background, tmp_path):
    from inspector import jobs
    from inspector.explain import Explainer
    from inspector.explain.report import explain_report

    data, boxes = _dataset(tmp_path)
    done = []
    job = explain_report(
        Explainer(model_with_background), data, boxes, cancel=lambda: len(done) > 0
    )
    with pytest.raises(jobs.Cancelled):
        jobs.run(job, on_progress=done.append)
    assert [p.done for p in done] == [1] and done[0].total == 6
