"""The command line as a user runs it: real processes, real files, real exported models."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import cv2

from .conftest import synthetic_plate


def inspector(*args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args], capture_output=True, text=True, timeout=timeout
    )


def test_predict_good_and_bad_files(tiny_model_dir, tmp_path):
    folder = tmp_path / "plates"
    (folder / "sub").mkdir(parents=True)
    cv2.imwrite(str(folder / "a.png"), synthetic_plate(0, 90))
    cv2.imwrite(str(folder / "sub" / "b.bmp"), synthetic_plate(1, 200))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")

    r = inspector("predict", str(folder), str(empty), "--json", "--model", str(tiny_model_dir))
    assert r.returncode == 1, r.stderr  # some files failed
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(row["path"].split("/")[-1] for row in rows) == ["a.png", "b.bmp"]
    for row in rows:
        assert set(row["probabilities"]) == {"crazing", "inclusion", "scratches"}
        assert all(0 <= p <= 1 for p in row["probabilities"].values())
        assert row["labels"] == [
            c for c, p in row["probabilities"].items() if p >= row["thresholds"][c]
        ]
    assert "broken.jpg" in r.stderr and "empty.png: the file is empty" in r.stderr
    assert "2 of 4 file(s) failed" in r.stderr
    assert "Traceback" not in r.stderr and "[E:onnxruntime" not in r.stderr


def test_predict_text_output_and_success_exit_code(tiny_model_dir, tmp_path):
    img = tmp_path / "ok.tif"
    cv2.imwrite(str(img), synthetic_plate(2, 64))
    r = inspector("predict", str(img), "--model", str(tiny_model_dir))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{img}: ")
    assert "threshold" in r.stdout and "scratches" in r.stdout
    assert "on CPU" in r.stderr or "on CUDA" in r.stderr


def test_missing_model_is_one_line_not_a_traceback(tmp_path):
    r = inspector("predict", str(tmp_path), "--model", str(tmp_path / "nomodel"))
    assert r.returncode == 2
    assert "model folder not found" in r.stderr and "Traceback" not in r.stderr


def test_export_model_reexports_with_a_new_version(tiny_model_dir, tmp_path):
    r = inspector(
        "export", "model", str(tiny_model_dir), "--out", str(tmp_path / "v2"), "--version", "v2"
    )
    assert r.returncode == 0, r.stderr
    card = json.loads((tmp_path / "v2" / "card.json").read_text())
    assert card["version"] == "v2" and card["parent"] == "tiny-test"
    assert card["metrics"]["onnx_parity_max_abs_diff"] < 1e-4


def test_bench_prints_the_table(tiny_model_dir, tmp_path):
    from tests.conftest import make_model_version

    other = make_model_version(tmp_path / "other", size=40, version="tiny-40")
    r = inspector(
        "bench", "--model", str(tiny_model_dir), "--model", str(other), "--repeats", "20",
        "--threads", "1", "--folder-images", "32",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    # two models side by side: one column each, every row filled for both
    assert "| measure | tiny-test | tiny-40 |" in r.stdout
    rows = [line for line in r.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert all(line.count("|") == 4 for line in rows)
    for needle in (
        "decode + preprocess",
        "ORT batch-1, p50 / p95** (what predict and the window run",
        "end-to-end batch-1",
        "a plain session (dynamic batch, 1 threads)",
        "batch-32 throughput",
        "torch eager batch-1 p50, 1 thread",
        "GFLOP",
    ):
        assert needle in r.stdout
    speedup = next(line for line in r.stdout.splitlines() if "speed-up over torch" in line)
    ratios = re.findall(r"([0-9.]+)x", speedup.rsplit("|", 2)[1])
    assert len(ratios) == 2 and all(float(x) > 0 for x in ratios)


def test_core_import_pulls_in_neither_qt_nor_torch():
    code = (
        "import sys, inspector.__main__, inspector.runtime.ort, inspector.imageio, inspector.metrics;"
        "inspector.__main__.build_parser();"
        "bad = [m for m in ('torch', 'PySide6', 'timm', 'shap') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
