"""``inspector evaluate`` and ``inspector calibrate`` as a user runs them (real processes)."""

from __future__ import annotations

import json

from .test_cli import inspector


def test_evaluate_prints_the_table_for_a_labelled_folder(tiny_model_dir, make_imagefolder):
    root = make_imagefolder(per_class=3, size=48)
    r = inspector("evaluate", str(root), "--model", str(tiny_model_dir), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("model tiny-test on 9 images")
    assert any(ln.startswith("crazing") for ln in lines)
    assert "macro AP" in r.stdout and "top-1" in r.stdout and "ECE" in r.stdout
    assert "no unfamiliar-plate score" in r.stdout  # a one-output model still evaluates

    r = inspector("evaluate", str(root), "--model", str(tiny_model_dir), "--json")
    report = json.loads(r.stdout)
    assert report["n_images"] == 9 and set(report["per_class"]) == {
        "crazing",
        "inclusion",
        "scratches",
    }


def test_evaluate_bad_input_is_one_line_and_exit_2(tiny_model_dir, tmp_path, make_imagefolder):
    for args in (
        [str(tmp_path / "nowhere")],
        [str(make_imagefolder(per_class=2)), "--split", "test"],  # no SPLITS.csv
        [],  # neither a folder nor a workspace
    ):
        r = inspector("evaluate", *args, "--model", str(tiny_model_dir))
        assert r.returncode == 2, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr


def test_calibrate_retrofits_a_version_that_reports_the_score(
    tiny_model_dir, make_imagefolder, tmp_path
):
    root = make_imagefolder(per_class=8, size=48)
    out = tmp_path / "cal"
    r = inspector(
        "calibrate", str(tiny_model_dir), "--data", str(root), "--out", str(out), "--device", "cpu"
    )
    assert r.returncode == 0, r.stderr
    assert "temperatures:" in r.stdout and "unfamiliar: threshold" in r.stdout
    card = json.loads((out / "card.json").read_text())
    assert card["parent"] == "tiny-test" and card["version"] == "tiny-test-cal"
    assert card["unfamiliar"]["output"] == "unfamiliar" and "temperatures" in card["calibration"]

    r = inspector("evaluate", str(root), "--model", str(out), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["unfamiliar"]["rate"] is not None
    img = next((root / "crazing").iterdir())
    r = inspector("predict", str(img), "--json", "--model", str(out))
    row = json.loads(r.stdout)
    assert row["unfamiliar_threshold"] == card["unfamiliar"]["threshold"]
    assert isinstance(row["is_unfamiliar"], bool)

    r = inspector("calibrate", str(out), "--data", str(root), "--out", str(out))
    assert r.returncode == 2 and "choose a new folder" in r.stderr


def test_evaluate_a_workspace_uses_the_people_s_labels(tiny_model_dir, make_imagefolder, tmp_path):
    from inspector.store import LabelStore

    from .conftest import TINY_CLASSES

    root = make_imagefolder(per_class=2, size=48)
    ws = tmp_path / "ws"
    with LabelStore.open(ws, classes=TINY_CLASSES) as store:
        for c in TINY_CLASSES:
            for f in sorted((root / c).iterdir()):
                store.set_labels(store.add_image(f), [c], user="ana")
    r = inspector("evaluate", "--workspace", str(ws), "--model", str(tiny_model_dir), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["n_images"] == 6 and "workspace" in report["data"]
    assert report["top1_errors"] + round(report["top1_accuracy"] * 6) == 6
