"""Import (ImageFolder, CSV, VOC) and export (ImageFolder, CSV, JSON lines), with bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector import jobs
from inspector.domain import Progress
from inspector.store import ImageFilter, ImportFormatError, LabelStore
from inspector.store.exporters import export_csv, export_imagefolder, export_jsonl
from inspector.store.importers import import_paths, iter_import


def current(store: LabelStore) -> dict[str, tuple[str, ...] | None]:
    return {Path(r.path).name: r.labels for r in store.page(limit=10_000)}


def test_imagefolder_import_reports_progress_and_labels_every_image(store, make_imagefolder):
    root = make_imagefolder(per_class=3)
    steps: list[Progress] = []
    report = jobs.run(iter_import(store, [root], user="ana"), on_progress=steps.append)
    assert all(isinstance(s, Progress) for s in steps)
    assert steps[-1].done == steps[-1].total == 9
    assert (report.new_images, report.labels_written, report.duplicates) == (9, 9, [])
    assert store.class_counts()["inclusion"] == 3
    img = store.image(store.page(limit=1)[0].id)
    assert (img.width, img.height) == (64, 64) and len(img.sha256) == 64 and img.size > 0


def test_reimport_is_idempotent(store, make_imagefolder):
    root = make_imagefolder(per_class=2)
    import_paths(store, [root], user="ana")
    again = import_paths(store, [root], user="ana")
    assert (again.new_images, again.existing_images, again.labels_written) == (0, 6, 0)
    assert store.counts()["label events"] == 6


def test_imagefolder_round_trip_with_a_multi_label_image(store, make_imagefolder, tmp_path):
    root = make_imagefolder(per_class=2)
    import_paths(store, [root], user="ana")
    first = store.page(limit=1)[0]
    store.set_labels(first.id, ["crazing", "scratches"], user="ana")
    other = store.page(limit=2)[1]
    store.set_labels(other.id, [], user="ana")
    out = tmp_path / "exported"
    assert export_imagefolder(store, out) == 6
    assert sorted(p.name for p in out.iterdir()) == [
        "crazing",
        "inclusion",
        "no defect",
        "scratches",
    ]
    with LabelStore.open(tmp_path / "ws2") as again:
        report = import_paths(again, [out], user="bo")
        assert len(report.duplicates) == 1  # the two-label image sits in two folders
        by_sha = {again.image(r.id).sha256: r.labels for r in again.page()}
        expected = {store.image(r.id).sha256: r.labels for r in store.page()}
        assert by_sha == expected


def test_symlink_export(store, make_imagefolder, tmp_path):
    import_paths(store, [make_imagefolder(per_class=1)], user="ana")
    out = tmp_path / "links"
    export_imagefolder(store, out, mode="symlink")
    assert all(p.is_symlink() for p in out.rglob("*.png"))


def test_csv_round_trip(store, make_imagefolder, tmp_path):
    root = make_imagefolder(per_class=2)
    import_paths(store, [root], user="ana")
    first = store.page(limit=1)[0]
    store.set_labels(first.id, ["crazing", "patches"], user="ana")
    csv_path = tmp_path / "out" / "labels.csv"
    assert export_csv(store, csv_path) == 6
    assert csv_path.read_text().splitlines()[0] == "path,labels"
    with LabelStore.open(tmp_path / "ws2") as again:
        # The CSV lives apart from the images: say where they are (confinement, issue 14.8).
        report = import_paths(again, [csv_path], user="bo", images_root=root)
        assert report.labels_written == 6
        assert current(again) == current(store)


def test_jsonl_holds_the_full_history(store, tmp_path):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana", reason="first look")
    store.undo(img, user="ana")
    out = tmp_path / "history.jsonl"
    assert export_jsonl(store, out) == 2
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(x["kind"], x["labels"], x["user"]) for x in lines] == [
        ("label", ["crazing"], "ana"),
        ("undo", None, "ana"),
    ]
    assert lines[0]["reason"] == "first look" and lines[1]["reverts"] == lines[0]["event"]


def write_csv(tmp_path: Path, text: str | bytes, name: str = "labels.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def assert_nothing_written(store: LabelStore) -> None:
    counts = store.counts()
    assert counts["images"] == 0 and counts["label events"] == 0


def test_csv_with_an_unknown_class_writes_nothing(store, tmp_path):
    p = write_csv(tmp_path, "path,labels\na.bmp,crazing\nb.bmp,crazing;rust\n")
    with pytest.raises(ImportFormatError, match=r"unknown class\(es\) 'rust'.*b\.bmp"):
        import_paths(store, [p], user="ana")
    assert_nothing_written(store)


def test_csv_unknown_class_can_be_added_on_request(store, tmp_path):
    p = write_csv(tmp_path, "path,labels\nb.bmp,crazing;rust\n")
    report = import_paths(store, [p], user="ana", add_classes=True)
    assert report.classes_added == ["rust"]
    assert store.labels(tmp_path / "b.bmp") == ("crazing", "rust")
    assert report.missing == [str(tmp_path / "b.bmp")]  # marked, not fatal
    assert store.image(tmp_path / "b.bmp").missing


def test_csv_missing_column(store, tmp_path):
    p = write_csv(tmp_path, "file,label\na.bmp,crazing\n")
    with pytest.raises(
        ImportFormatError, match=r"missing column.*path, labels.*found: file, label"
    ):
        import_paths(store, [p], user="ana")
    assert_nothing_written(store)


def test_csv_bad_encoding(store, tmp_path):
    p = write_csv(tmp_path, "path,labels\nplaque_\xe9.bmp,crazing\n".encode("latin-1"))
    with pytest.raises(ImportFormatError, match="not UTF-8"):
        import_paths(store, [p], user="ana")
    assert_nothing_written(store)


def test_csv_short_row_names_its_line(store, tmp_path):
    p = write_csv(tmp_path, "path,labels\na.bmp,crazing\nb.bmp\n")
    with pytest.raises(ImportFormatError, match=r"labels\.csv:3"):
        import_paths(store, [p], user="ana")
    assert_nothing_written(store)


def test_nonexistent_input_path(store, tmp_path):
    with pytest.raises(ImportFormatError, match="no such file or folder"):
        import_paths(store, [tmp_path / "nowhere"], user="ana")
    assert_nothing_written(store)


def test_duplicate_pixels_are_reported_not_added_twice(store, make_imagefolder, tmp_path):
    root = make_imagefolder(classes=("crazing",), per_class=1)
    import_paths(store, [root], user="ana")
    copy = tmp_path / "copy.png"
    copy.write_bytes(next(root.rglob("*.png")).read_bytes())
    p = write_csv(tmp_path, "path,labels\ncopy.png,patches\n")
    report = import_paths(store, [p], user="ana")
    assert report.duplicates == [(str(copy), str(next(root.rglob("*.png"))))]
    assert store.counts()["images"] == 1


VOC = """<annotation><folder>x</folder><filename>{name}</filename>
<size><width>64</width><height>64</height><depth>1</depth></size>
{objects}</annotation>"""
OBJ = (
    "<object><name>{c}</name><bndbox><xmin>{a}</xmin><ymin>{a}</ymin>"
    "<xmax>{b}</xmax><ymax>{b}</ymax></bndbox></object>"
)


def test_voc_boxes_are_kept_and_label_only_unlabelled_images(store, make_imagefolder, tmp_path):
    root = make_imagefolder(classes=("crazing",), per_class=2)
    ann = tmp_path / "ann"
    ann.mkdir()
    for i in range(2):
        objs = OBJ.format(c="crazing", a=1, b=30) + OBJ.format(c="patches", a=5, b=9)
        (ann / f"crazing_{i}.xml").write_text(VOC.format(name=f"crazing_{i}.png", objects=objs))
    store.add_image(root / "crazing" / "crazing_0.png")
    store.set_labels(root / "crazing" / "crazing_0.png", ["scratches"], user="ana")
    report = import_paths(store, [ann], user="ana", images_root=root / "crazing")
    assert report.boxes == 4 and report.missing == []
    assert store.labels(root / "crazing" / "crazing_0.png") == ("scratches",)  # kept
    assert store.labels(root / "crazing" / "crazing_1.png") == ("crazing", "patches")
    boxes = store.boxes(root / "crazing" / "crazing_1.png")
    assert [(b.label, b.xmin, b.xmax) for b in boxes] == [("crazing", 1, 30), ("patches", 5, 9)]
    import_paths(store, [ann], user="ana", images_root=root / "crazing")
    assert store.counts()["boxes"] == 4  # re-import replaces, never doubles


def test_broken_voc_xml_writes_nothing(store, tmp_path):
    (tmp_path / "a.xml").write_text("<annotation><object>")
    with pytest.raises(ImportFormatError, match="not valid Pascal VOC"):
        import_paths(store, [tmp_path / "a.xml"], user="ana")
    assert_nothing_written(store)


@pytest.mark.neu
@pytest.mark.slow
def test_real_neu_det_annotations_map_to_neu_cls_images(store, neu_dir, neu_det_dir):
    xmls = sorted(neu_det_dir.glob("*.xml"))[:60]
    report = import_paths(store, xmls, user="ana", images_root=neu_dir)
    assert report.missing == [] and report.files == 60
    rows = store.page(limit=100)
    assert all(Path(r.path).parent.parent == neu_dir for r in rows)
    first = next(r for r in rows if Path(r.path).name == "Cr_1.bmp")
    assert store.boxes(first.id)[0].label == "crazing"
    assert store.count(ImageFilter(label="crazing")) >= 1
