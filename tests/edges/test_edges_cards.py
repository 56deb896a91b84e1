"""Issue 14 items 2 and 10 (model cards): the whole card is checked when a model is opened, against
the ONNX graph too, and a model never hands the user NaN as "no defect"."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from inspector.domain import ModelError
from inspector.registry import read_card

from .corpus import edit_card, inspector, one_clear_line, plate


@pytest.fixture()
def model(tiny_model_dir, tmp_path):
    """A private copy of the tiny exported model (3 classes, 48 px, 1 channel) to break."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def _set(path: str, value):
    def edit(card: dict) -> None:
        *parents, last = path.split(".")
        node = card
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


def _add_class(card: dict) -> None:
    card["classes"].append("patches")
    card["thresholds"].append(0.5)


BAD_CARDS = {
    # the case: every plate "no defect" with NaN probabilities, exit 0
    "std zero": (_set("preprocessing.std", [0]), "preprocessing.std must be > 0"),
    "std negative": (_set("preprocessing.std", [-0.5]), "preprocessing.std must be > 0"),
    "mean NaN": (_set("preprocessing.mean", [math.nan]), "preprocessing.mean must be finite"),
    "size zero": (_set("preprocessing.size", 0), "preprocessing.size must be"),
    "size text": (_set("preprocessing.size", "big"), "preprocessing.size must be a whole number"),
    "size vs graph": (_set("preprocessing.size", 64), "model.onnx takes 48×48"),
    "channels vs graph": (_set("preprocessing.channels", 3), "model.onnx takes 1 channel"),
    "std per channel": (_set("preprocessing.std", [0.5, 0.5]), "preprocessing.std has 2 values"),
    "interpolation": (_set("preprocessing.interpolation", "cubic"), "interpolation 'cubic'"),
    "classes vs graph": (_add_class, "lists 4 classes but model.onnx outputs 3 scores"),
    "thresholds count": (_set("thresholds", [0.5, 0.5]), "2 thresholds for 3 classes"),
    "threshold one": (_set("thresholds", [0.5, 1.0, 0.5]), "thresholds[1] must be between 0 and 1"),
    "threshold text": (_set("thresholds", [0.5, "x", 0.5]), "thresholds[1] must be a number"),
    "duplicate class": (_set("classes", ["a", "b", "a"]), "class 'a' is listed twice"),
    "empty class name": (_set("classes", ["a", "", "c"]), "classes[1] must be a non-empty"),
    "no classes": (lambda c: {**c, "classes": [], "thresholds": []}, "lists no classes"),
    "JSON list": (lambda c: [c], "must be a JSON object, not a list"),
    "no preprocessing": (lambda c: {k: v for k, v in c.items() if k != "preprocessing"}, "lacks"),
    "preprocessing list": (_set("preprocessing", [144, 1]), "preprocessing must be a JSON object"),
}


@pytest.mark.parametrize("case", list(BAD_CARDS))
def test_a_bad_card_is_refused_with_one_line_naming_the_field(model, tmp_path, case):
    edit, expected = BAD_CARDS[case]
    edit_card(model, edit)
    img = plate(tmp_path / "plate.png")
    r = inspector("predict", str(img), "--json", "--model", str(model))
    line = one_clear_line(r)
    assert r.returncode == 2 and r.stdout == "", r.stdout
    assert str(model / "card.json") in line and expected in line, line


def test_read_card_checks_the_fields_without_the_graph(model):
    edit_card(model, _set("preprocessing.std", [0]))
    with pytest.raises(ModelError, match=r"preprocessing\.std must be > 0"):
        read_card(model)


def test_a_bad_card_stops_explain_too(model, tmp_path):
    edit_card(model, _set("preprocessing.interpolation", "lanczos"))
    img = plate(tmp_path / "plate.png")
    r = inspector("explain", str(img), "--model", str(model), "--out", str(tmp_path / "h.png"))
    assert "interpolation 'lanczos'" in one_clear_line(r)
    assert not (tmp_path / "h.png").exists()


def _poison_onnx(model_dir) -> None:
    """Make the graph itself answer NaN (a corrupt model.onnx; the card is fine)."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(model_dir / "model.onnx"))
    for init in m.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.ndim == 1:
            init.CopyFrom(numpy_helper.from_array(np.full_like(arr, np.nan), init.name))
    onnx.save(m, str(model_dir / "model.onnx"))


def _strict_json(line: str) -> dict:
    def refuse(name: str):
        raise AssertionError(f"not JSON: {name} in {line}")

    return json.loads(line, parse_constant=refuse)


def test_nan_from_the_model_is_an_error_for_that_file_never_no_defect(model, tmp_path):
    _poison_onnx(model)
    img = plate(tmp_path / "plate.png")
    r = inspector("predict", str(img), "--json", "--model", str(model))
    for line in r.stdout.splitlines():
        _strict_json(line)  # predict --json always prints JSON
    assert r.returncode == 1 and r.stdout == "", r.stdout
    assert "Traceback" not in r.stderr
    assert f"{img}: the model returned NaN" in r.stderr, r.stderr
    text = inspector("predict", str(img), "--model", str(model))
    assert "no defect" not in text.stdout and text.returncode == 1


def test_a_model_path_that_is_a_file_is_not_called_missing(tmp_path):
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")
    with pytest.raises(ModelError, match="is a file; give the model version folder"):
        read_card(onnx)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("version", "../../../outside", "version '../../../outside' must not be"),
        ("version", "v1\nforged line", "must not contain control characters"),
        ("classes", ["crazing", "..", "scratches"], "class '..' must not be"),
        ("classes", ["crazing", "a\\b", "scratches"], "contain a path separator"),
    ],
)
def test_names_that_would_steer_a_path_are_refused(model, field, value, expected):
    # The version names explanation-cache files and backgrounds; class names become folders.
    edit_card(model, _set(field, value))
    with pytest.raises(ModelError, match="model card: ") as err:
        read_card(model)
    assert expected in str(err.value) and str(model / "card.json") in str(err.value)
