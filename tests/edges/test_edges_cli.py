"""Issue 14 item 10: ``inspector ... | head`` (a reader that stops early) is not an error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .corpus import plate


def _into_closed_pipe(*args: str) -> subprocess.CompletedProcess:
    """Run ``inspector ARGS`` with stdout a pipe whose reader has already gone, as after ``head``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # the reader is gone before the first line: every write is EPIPE
    err = proc.stderr.read()
    proc.wait(timeout=240)
    return subprocess.CompletedProcess(proc.args, proc.returncode, "", err)


def _quiet_stop(r: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert "Exception ignored" not in r.stderr, r.stderr
    assert r.returncode == 141, (r.returncode, r.stderr)  # 128 + SIGPIPE, as a shell reports it


@pytest.fixture()
def workspace(tmp_path):
    data = tmp_path / "data" / "crazing"
    data.mkdir(parents=True)
    plate(data / "a.png")
    ws = tmp_path / "ws"
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "import", str(tmp_path / "data"), "--workspace", ws],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 0, r.stderr
    return ws


def test_db_check_into_head(workspace):
    _quiet_stop(_into_closed_pipe("db", "check", "--workspace", str(workspace)))


def test_predict_json_into_head(tmp_path):
    for i in range(3):
        plate(tmp_path / f"p{i}.png", value=100 + 20 * i)
    _quiet_stop(_into_closed_pipe("predict", str(tmp_path), "--json"))


BAD_OPTIONS = [
    ("explain", "--nsamples", "0"),
    ("explain", "--smooth", "-2"),
    ("explain", "--clip", "500"),
    ("explain", "--opacity", "7"),
    ("explain", "--threads", "-1"),
    ("predict", "--batch-size", "0"),
    ("bench", "--repeats", "0"),
    ("bench", "--threads", "-2"),
]


@pytest.mark.parametrize(("command", "option", "value"), BAD_OPTIONS)
def test_an_out_of_range_option_is_one_usage_line(tmp_path, command, option, value):
    img = plate(tmp_path / "p.png")
    args = {"explain": [str(img), "--out", str(tmp_path / "h.png")], "predict": [str(img)]}
    r = subprocess.run(
        [sys.executable, "-m", "inspector", command, *args.get(command, []), option, value],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"error: argument {option}: must be" in r.stderr, r.stderr
    assert not (tmp_path / "h.png").exists()


def test_explain_out_is_a_folder(tmp_path):
    img = plate(tmp_path / "p.png")
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "explain", str(img), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"{tmp_path}: is a folder; --out names the PNG file" in r.stderr, r.stderr


def test_bench_with_a_folder_of_no_images(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "bench", "--images", str(tmp_path), "--no-torch"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"no image files in {tmp_path}" in r.stderr, r.stderr


def test_explain_on_a_full_disk_leaves_no_half_heatmap(tmp_path):
    from .corpus import inspector_limited, one_clear_line

    img = plate(tmp_path / "p.png", size=200)
    out = tmp_path / "heat.png"
    # 20 kB per file: the six-panel overlay PNG is larger, so its write fails midway
    r = inspector_limited(
        ["explain", str(img), "--out", str(out), "--no-cache", "--nsamples", "2"],
        file_limit=20_000,
    )
    line = one_clear_line(r)
    assert r.returncode == 2 and "cannot write the heatmap (File too large)" in line, line
    assert not out.exists()


def test_a_windowed_build_without_stdout_does_not_crash_at_exit(tmp_path):
    # pythonw and PyInstaller's windowed mode run with sys.stdout = None.
    code = (
        "import sys\nsys.stdout = None\nfrom inspector.__main__ import main\n"
        "sys.exit(main(['predict', sys.argv[1]]))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "gone.png")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1 and "gone.png: file not found" in r.stderr, r.stderr


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "imagefolder"])
def test_export_data_where_no_folder_can_be_made_is_one_line(workspace, tmp_path, fmt):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "sub" / f"labels.{fmt}"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "export",
            "data",
            "--format",
            fmt,
            "--out",
            str(out),
            "--workspace",
            str(workspace),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    assert (
        r.stderr.strip().startswith("inspector: error:") and len(r.stderr.strip().splitlines()) == 1
    )
    assert blocker.read_text() == "not a folder"  # nothing written
