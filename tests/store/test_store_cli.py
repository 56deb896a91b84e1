"""The store's commands, parsed and run as `inspector` does (one-line errors, exit codes)."""

from __future__ import annotations

import argparse
import sqlite3

import pytest

from inspector.commands import data_export, db, imports
from inspector.domain import InspectorError
from inspector.store import SCHEMA_VERSION


def inspector(*argv: str) -> int:
    """Parse and run like inspector.__main__.main, with only the store's commands registered."""
    parser = argparse.ArgumentParser(prog="inspector")
    parser.add_argument("--workspace")
    sub = parser.add_subparsers(dest="command")
    imports.register(sub)
    db.register(sub)
    export = sub.add_parser("export").add_subparsers(dest="what")
    data = export.add_parser("data")
    data_export.add_arguments(data)
    data.set_defaults(func=data_export.run)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InspectorError as exc:
        print(f"inspector: error: {exc}")
        return 2


def test_import_check_backup_export(tmp_path, make_imagefolder, capsys):
    ws = str(tmp_path / "ws")
    root = make_imagefolder(per_class=2)
    assert inspector("import", str(root), "--workspace", ws, "--user", "ana") == 0
    assert "6 images (6 new), 6 labels written" in capsys.readouterr().out
    assert inspector("db", "check", "--workspace", ws) == 0
    out = capsys.readouterr().out
    assert (
        "integrity: ok" in out
        and "label events: 6" in out
        and f"schema version: {SCHEMA_VERSION}" in out
    )
    assert inspector("db", "backup", "--workspace", ws, "--out", str(tmp_path / "b.db")) == 0
    assert inspector("db", "check", "--workspace", str(tmp_path / "b.db")) == 0
    assert "images: 6" in capsys.readouterr().out
    csv = tmp_path / "labels.csv"
    assert inspector("export", "data", "--workspace", ws, "--format", "csv", "--out", str(csv)) == 0
    assert len(csv.read_text().splitlines()) == 7


def test_bad_csv_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,classes\nx,y\n")
    assert inspector("import", str(bad), "--workspace", str(tmp_path / "ws")) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "missing column" in lines[0]


def test_db_check_on_a_non_database_says_so(tmp_path, capsys):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "inspector.db").write_text("hello")
    assert inspector("db", "check", "--workspace", str(tmp_path / "ws")) == 2
    assert "not an SQLite file" in capsys.readouterr().out


def test_db_check_reports_corruption(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert inspector("import", str(tmp_path), "--workspace", str(ws)) == 0
    conn = sqlite3.connect(ws / "inspector.db")
    conn.execute("PRAGMA writable_schema = ON")
    # Point an index at the wrong table root: integrity_check must notice.
    conn.execute(
        "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master"
        " WHERE name = 'classes') WHERE name = 'images_sha256'"
    )
    conn.commit()
    conn.close()
    capsys.readouterr()
    code = inspector("db", "check", "--workspace", str(ws))
    out = capsys.readouterr().out
    assert code != 0 and "integrity: ok" not in out


def test_subcommand_workspace_does_not_hide_the_global_one(tmp_path, make_imagefolder):
    ws = tmp_path / "global-ws"
    assert inspector("--workspace", str(ws), "import", str(make_imagefolder(per_class=1))) == 0
    # The subcommand did not override it with None (which would mean the default workspace).
    assert (ws / "inspector.db").is_file()
    assert not (tmp_path / "default-workspace").exists()


@pytest.mark.parametrize("cmd", ["imports", "db"])
def test_commands_are_registered_in_the_main_cli(cmd):
    from inspector.__main__ import COMMANDS

    assert cmd in COMMANDS
