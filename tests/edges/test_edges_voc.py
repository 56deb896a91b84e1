"""Issue 14 item 10: VOC coordinates that are numbers but not coordinates (``1e300``, ``inf``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from inspector.domain import VocError
from inspector.voc import read_voc, read_voc_annotation

from .corpus import plate


def _voc(xmax: str) -> str:
    return (
        "<annotation><filename>a.png</filename><size><width>64</width><height>64</height></size>"
        "<object><name>crazing</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
        f"<xmax>{xmax}</xmax><ymax>40</ymax></bndbox></object></annotation>"
    )


@pytest.mark.parametrize("value", ["1e300", "-1e300", "1e400", "inf", "-Infinity", "nan"])
def test_a_coordinate_that_is_not_a_pixel_position_is_a_voc_error(tmp_path, value):
    xml = tmp_path / "a.xml"
    xml.write_text(_voc(value))
    with pytest.raises(VocError) as err:
        read_voc(xml)
    assert f"<xmax> {value!r} is not a pixel coordinate" in str(err.value), str(err.value)
    (obj,) = read_voc_annotation(xml).objects  # the tolerant reader records it instead
    assert obj.box is None and "not a pixel coordinate" in obj.problem


def test_a_large_but_real_coordinate_is_kept(tmp_path):
    xml = tmp_path / "a.xml"
    xml.write_text(_voc("150000.5"))  # line-scan plates are long
    assert read_voc(xml)[0].xmax == 150000.5


def test_importing_a_1e300_box_is_one_line_not_an_overflow(tmp_path):
    plate(tmp_path / "a.png")
    (tmp_path / "a.xml").write_text(_voc("1e300"))
    r = subprocess.run(
        [sys.executable, "-m", "inspector", "import", str(tmp_path / "a.xml"), "--workspace",
         str(tmp_path / "ws")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert "Traceback" not in r.stderr and "OverflowError" not in r.stderr, r.stderr
    assert r.returncode != 0 and "a.xml" in r.stderr, r.stderr


def test_an_unreadable_xml_is_not_called_invalid_xml(tmp_path):
    from .corpus import without_root_powers

    xml = tmp_path / "a.xml"
    xml.write_text(_voc("30"))
    xml.chmod(0o000)
    code = "import sys\nfrom inspector.voc import read_voc\nread_voc(sys.argv[1])"
    r = subprocess.run(
        [*without_root_powers(), sys.executable, "-c", code, str(xml)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "VocError" in r.stderr, r.stderr
    assert f"{xml}: cannot read the file (Permission denied)" in r.stderr, r.stderr
    assert "not valid" not in r.stderr


def test_a_folder_named_xml_is_not_called_invalid_xml(tmp_path):
    (tmp_path / "b.xml").mkdir()
    with pytest.raises(VocError, match=r"cannot read the file \(Is a directory\)"):
        read_voc(tmp_path / "b.xml")
