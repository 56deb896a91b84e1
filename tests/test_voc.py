"""inspector.voc: the one Pascal VOC reader, on small files written here and on all of NEU-DET."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from inspector.domain import InspectorError, VocError
from inspector.voc import (
    NEU_PREFIX,
    Box,
    neu_image_for_xml,
    neu_xml_for_image,
    read_voc,
    read_voc_annotation,
)


def _voc(*objects: str, size: str = "<size><width>200</width><height>100</height></size>") -> str:
    return (
        "<annotation><folder>imgs</folder><filename>a_1.jpg</filename>"
        f"{size}{''.join(objects)}</annotation>"
    )


def _obj(name: str, xmin="1", ymin="2", xmax="30", ymax="40") -> str:
    return (
        f"<object><name>{name}</name><bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin>"
        f"<xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>"
    )


def _write(tmp_path: Path, text: str, name: str = "a.xml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_one_box(tmp_path):
    boxes = read_voc(_write(tmp_path, _voc(_obj(" crazing "))))
    assert boxes == [Box("crazing", 1.0, 2.0, 30.0, 40.0)]
    assert boxes[0].name == "crazing"  # the <name> tag, as inspector.explain reads it


def test_several_objects_keep_file_order_and_image_fields(tmp_path):
    xml = _write(
        tmp_path,
        _voc(
            _obj("patches", "5", "6", "7.5", "8"),
            "<object><name>inclusion</name></object>",  # no <bndbox>: not a box, still a label
            _obj("crazing"),
        ),
    )
    assert [b.label for b in read_voc(xml)] == ["patches", "crazing"]
    assert read_voc(xml)[0].xmax == 7.5
    ann = read_voc_annotation(xml)
    assert ann.labels == {"patches", "inclusion", "crazing"}
    assert (ann.filename, ann.folder, ann.image_path, ann.size) == (
        "a_1.jpg",
        "imgs",
        "",
        (200, 100),
    )
    assert read_voc_annotation(_write(tmp_path, _voc(size=""), "b.xml")).size == (0, 0)


def test_malformed_xml(tmp_path):
    xml = _write(tmp_path, "<annotation><object>")
    with pytest.raises(VocError, match="not valid Pascal VOC XML") as info:
        read_voc(xml)
    assert isinstance(info.value, InspectorError)
    assert info.value.path == str(xml) and str(info.value).startswith(f"{xml}: ")


@pytest.mark.parametrize(
    ("coords", "why"),
    [(("1", "2", "abc", "4"), "<xmax> 'abc' is not a number"), (("1", "2", "3", ""), "<ymax>")],
)
def test_non_numeric_box(tmp_path, coords, why):
    xml = _write(tmp_path, _voc(_obj("crazing"), _obj("patches", *coords)))
    with pytest.raises(VocError, match="non-numeric <bndbox>") as info:
        read_voc(xml)
    assert why in info.value.reason
    # the lenient form keeps the object and says what is wrong with it
    ann = read_voc_annotation(xml)
    assert [o.box is None for o in ann.objects] == [False, True]
    assert ann.labels == {"crazing", "patches"}


def test_missing_coordinate_and_bad_size(tmp_path):
    no_ymin = (
        "<object><name>x</name><bndbox><xmin>1</xmin><xmax>3</xmax><ymax>4</ymax></bndbox></object>"
    )
    with pytest.raises(VocError, match="no <ymin>"):
        read_voc(_write(tmp_path, _voc(no_ymin)))
    bad = read_voc_annotation(_write(tmp_path, _voc(size="<size><width>w</width></size>"), "s.xml"))
    with pytest.raises(VocError, match="non-numeric <size>"):
        _ = bad.size


def test_missing_file(tmp_path):
    with pytest.raises(
        VocError, match=r"cannot read the file \(No such file or directory\)"
    ) as info:
        read_voc(tmp_path / "nope.xml")
    assert info.value.path == str(tmp_path / "nope.xml")


def test_neu_name_mapping():
    assert neu_xml_for_image(Path("cls/rolled-in_scale/RS_270.bmp"), Path("det")) == Path(
        "det/rolled-in_scale_270.xml"
    )
    assert neu_xml_for_image("x/sub/Cr_3.bmp", "det", cls="crazing") == Path("det/crazing_3.xml")
    assert neu_image_for_xml("det/pitted_surface_12.xml", "cls") == Path(
        "cls/pitted_surface/PS_12.bmp"
    )
    assert neu_image_for_xml("det/unknown_12.xml", "cls") is None
    assert neu_image_for_xml("det/crazing_x.xml", "cls") is None
    assert set(NEU_PREFIX) == {
        "crazing",
        "inclusion",
        "patches",
        "pitted_surface",
        "rolled-in_scale",
        "scratches",
    }


def test_all_neu_det_files_parse(neu_det_dir, neu_dir):
    files = sorted(neu_det_dir.glob("*.xml"))
    assert len(files) == 1800
    boxes = [b for f in files for b in read_voc(f)]
    assert len(boxes) == 4189
    assert Counter(b.label for b in boxes) == {
        "inclusion": 1011,
        "patches": 881,
        "crazing": 689,
        "rolled-in_scale": 628,
        "scratches": 548,
        "pitted_surface": 432,
    }
    assert all(read_voc_annotation(f).size == (200, 200) for f in files[:50])
    # every annotation maps to its NEU-CLS image and back
    for f in files:
        img = neu_image_for_xml(f, neu_dir)
        assert img is not None and img.is_file(), f
        assert neu_xml_for_image(img, neu_det_dir) == f
