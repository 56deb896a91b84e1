"""What an import or export must refuse or flag (issue 14, items 4, 5, 7 and 8), and the import
as a job (progress, cancel, result returned)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from inspector import jobs
from inspector.commands import data_export, imports
from inspector.domain import InspectorError, Progress
from inspector.store import ImportFormatError, LabelStore, StoreError
from inspector.store.exporters import export_imagefolder
from inspector.store.importers import import_paths, iter_import


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def nothing_written(store: LabelStore) -> bool:
    counts = store.counts()
    return counts["images"] == 0 and counts["label events"] == 0


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="inspector")
    sub = parser.add_subparsers(dest="command")
    imports.register(sub)
    data = sub.add_parser("export").add_subparsers(dest="what").add_parser("data")
    data_export.add_arguments(data)
    data.set_defaults(func=data_export.run)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InspectorError as exc:
        print(f"inspector: error: {exc}")
        return 2


# ---------------------------------------------------------------- 4: one image, two labels
def test_a_csv_naming_one_image_twice_with_different_labels_is_refused(store, tmp_path):
    p = write(
        tmp_path / "labels.csv", "path,labels\na.png,crazing\nb.png,patches\na.png,pitted_surface\n"
    )
    with pytest.raises(ImportFormatError, match=r"labels\.csv:2.*labels\.csv:4"):
        import_paths(store, [p], user="ana")
    assert nothing_written(store)


def test_a_csv_repeating_a_row_exactly_is_fine(store, tmp_path):
    p = write(tmp_path / "labels.csv", "path,labels\na.png,crazing\na.png,crazing\n")
    assert import_paths(store, [p], user="ana").labels_written == 1


# ---------------------------------------------------------------- 5: decode fully
def test_truncated_and_corrupt_images_are_flagged_and_the_import_exits_non_zero(
    tmp_path, make_imagefolder, capsys
):
    root = make_imagefolder(classes=("crazing",), per_class=3)
    files = sorted((root / "crazing").iterdir())
    whole = files[0].read_bytes()
    files[1].write_bytes(whole[: len(whole) // 2])  # header intact, pixels cut off
    files[2].write_bytes(whole[:40] + b"\x00" * (len(whole) - 40))  # pixels zeroed out
    ws = tmp_path / "ws"
    code = cli("import", str(root), "--workspace", str(ws), "--user", "ana")
    out = capsys.readouterr().out
    assert code == 1
    assert "3 images (3 new)" in out and "2 unreadable" in out
    with LabelStore.open(ws) as s:
        assert s.image(files[0]).unreadable is False
        assert s.image(files[1]).unreadable and s.image(files[2]).unreadable
        assert s.counts()["unreadable images"] == 2


def test_an_import_with_a_missing_file_exits_non_zero_and_keeps_the_summary(tmp_path, capsys):
    p = write(tmp_path / "labels.csv", "path,labels\ngone.png,crazing\n")
    code = cli("import", str(p), "--workspace", str(tmp_path / "ws"), "--user", "ana")
    assert code == 1 and "1 images (1 new), 1 labels written, 0 duplicates, 1 missing" in (
        capsys.readouterr().out
    )


# ---------------------------------------------------------------- 7: class names as folders
@pytest.mark.parametrize("name", ["../../evil", "/abs", "..", ".", "a\\b", "tab\there", " "])
def test_class_names_that_could_be_paths_are_refused(store, name):
    with pytest.raises(StoreError, match="class name"):
        store.add_class(name)
    with pytest.raises(StoreError, match="class name"):
        store.rename_class("crazing", name)
    assert "crazing" in store.classes()


def test_an_import_cannot_add_a_path_like_class(store, tmp_path):
    p = write(tmp_path / "labels.csv", "path,labels\na.png,../../evil\n")
    with pytest.raises(StoreError, match="path separator"):
        import_paths(store, [p], user="ana", add_classes=True)
    assert nothing_written(store) and "../../evil" not in store.classes()


def test_an_export_never_writes_outside_out_even_for_an_old_bad_class_name(
    store, make_imagefolder, tmp_path
):
    import_paths(store, [make_imagefolder(classes=("crazing",), per_class=1)], user="ana")
    # A workspace made before names were checked: rename behind the store's back.
    store._conn.execute("UPDATE classes SET name = '../../evil' WHERE name = 'crazing'")
    out = tmp_path / "export" / "out"
    before = sorted(p for p in tmp_path.rglob("*") if "export" not in p.parts)
    with pytest.raises(StoreError, match="outside"):
        export_imagefolder(store, out)
    after = sorted(p for p in tmp_path.rglob("*") if "export" not in p.parts)
    assert after == before and not out.exists()
    assert not (tmp_path / "evil").exists()


# ---------------------------------------------------------------- 8: confined to the root
@pytest.mark.parametrize("row", ["/etc/passwd", "../outside.png", "sub/../../outside.png"])
def test_a_csv_cannot_register_files_outside_its_folder(store, tmp_path, row):
    write(tmp_path / "outside.png", "not really")
    p = write(tmp_path / "in" / "labels.csv", f"path,labels\n{row},crazing\n")
    with pytest.raises(ImportFormatError, match=r"labels\.csv:2.*outside.*--allow-outside"):
        import_paths(store, [p], user="ana")
    assert nothing_written(store)


def test_a_symlink_out_of_the_root_is_outside_too(store, tmp_path):
    write(tmp_path / "secret.png", "secret")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "link.png").symlink_to(tmp_path / "secret.png")
    p = write(tmp_path / "in" / "labels.csv", "path,labels\nlink.png,crazing\n")
    with pytest.raises(ImportFormatError, match="outside"):
        import_paths(store, [p], user="ana")


def test_images_root_and_allow_outside_widen_the_confinement(store, tmp_path):
    img = write(tmp_path / "images" / "a.png", "x")
    p = write(tmp_path / "in" / "labels.csv", f"path,labels\n{img},crazing\n")
    assert import_paths(store, [p], user="ana", images_root=tmp_path / "images").files == 1
    q = write(tmp_path / "in" / "more.csv", "path,labels\n/etc/hostname,crazing\n")
    report = import_paths(store, [q], user="ana", allow_outside=True)
    assert report.files == 1 and report.unreadable == ["/etc/hostname"]


VOC = (
    "<annotation><filename>a.png</filename><path>{path}</path><object><name>crazing</name>"
    "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>"
    "</annotation>"
)


def test_a_voc_path_element_cannot_point_outside(store, tmp_path):
    write(tmp_path / "outside.png", "x")
    xml = write(tmp_path / "ann" / "a.xml", VOC.format(path=tmp_path / "outside.png"))
    with pytest.raises(ImportFormatError, match=r"a\.xml.*outside.*--allow-outside"):
        import_paths(store, [xml], user="ana")
    assert nothing_written(store)


def test_the_import_cli_has_allow_outside(tmp_path, capsys):
    p = write(tmp_path / "in" / "labels.csv", "path,labels\n/etc/hostname,crazing\n")
    ws = str(tmp_path / "ws")
    assert cli("import", str(p), "--workspace", ws) == 2
    assert "--allow-outside" in capsys.readouterr().out
    assert cli("import", str(p), "--workspace", ws, "--allow-outside") == 1  # unreadable


# ---------------------------------------------------------------- the job protocol
def test_the_import_job_yields_progress_and_returns_its_report(store, make_imagefolder):
    seen: list[Progress] = []
    report = jobs.run(iter_import(store, [make_imagefolder(per_class=2)], user="ana"), seen.append)
    assert report.new_images == 6 and report.labels_written == 6
    assert seen and all(isinstance(p, Progress) and "report" not in p.extra for p in seen)
    assert seen[-1].done == seen[-1].total


def test_a_cancelled_import_writes_nothing(store, make_imagefolder):
    calls = iter(range(1000))
    job = iter_import(
        store, [make_imagefolder(per_class=3)], user="ana", cancel=lambda: next(calls) > 2
    )
    with pytest.raises(jobs.Cancelled):
        jobs.run(job)
    assert nothing_written(store)
