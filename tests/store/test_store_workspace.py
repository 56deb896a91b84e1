"""Opening workspaces: defaults, schema versions and migrations, bad files, read-only, backup."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from inspector.store import (
    SCHEMA_VERSION,
    LabelStore,
    NotADatabaseError,
    ReadOnlyWorkspaceError,
    SchemaTooNewError,
    StoreError,
    default_workspace,
)
from inspector.store.migrations import MIGRATIONS, Migration, migrate


def test_default_workspace_follows_the_environment(tmp_path):
    assert default_workspace() == tmp_path / "default-workspace"
    with LabelStore.open() as s:
        assert s.workspace == tmp_path / "default-workspace"
        assert (tmp_path / "default-workspace" / "inspector.db").is_file()


def test_new_workspace_has_the_neu_classes_and_current_schema(store):
    from inspector.domain import NEU_CLASSES

    assert store.classes() == list(NEU_CLASSES)
    report = store.check()
    assert report.ok and report.integrity == "ok" and report.schema_version == SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_a_clear_message(ws):
    LabelStore.open(ws).close()
    conn = sqlite3.connect(ws / "inspector.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer version"):
        LabelStore.open(ws)


def test_an_older_schema_is_migrated_keeping_its_data(ws):
    ws.mkdir()
    conn = sqlite3.connect(ws / "inspector.db", isolation_level=None)
    migrate(conn, ws / "inspector.db", upto=1)  # a workspace from the first release
    conn.execute("INSERT INTO classes VALUES (1, 'crazing', 0, NULL, 'then')")
    conn.execute("INSERT INTO images (path, added_at) VALUES ('/p/a.bmp', 'then')")
    conn.execute("INSERT INTO current_labels (image_id) VALUES (1)")
    conn.close()
    with LabelStore.open(ws) as s:
        assert s.check().schema_version == SCHEMA_VERSION
        s.set_labels("/p/a.bmp", ["crazing"], user="ana")
        names = [r[0] for r in s._conn.execute("SELECT name FROM migrations ORDER BY version")]
        assert names == [m.name for m in MIGRATIONS]


def test_a_failing_migration_step_leaves_the_previous_version(ws):
    ws.mkdir()
    db = ws / "inspector.db"
    conn = sqlite3.connect(db, isolation_level=None)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        migrate(conn, db, steps=[*MIGRATIONS[:1], Migration("broken", broken)])
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert (
        conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0]
        == 0
    )
    conn.close()


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(ws):
    ws.mkdir()
    db = ws / "inspector.db"
    db.write_bytes(b"these are my holiday photos, not a database" * 100)
    before = db.read_bytes()
    with pytest.raises(NotADatabaseError, match="not an SQLite file"):
        LabelStore.open(ws)
    assert db.read_bytes() == before
    assert sorted(p.name for p in ws.iterdir()) == ["inspector.db"]


def test_read_only_open_refuses_writes_and_changes_nothing(ws):
    with LabelStore.open(ws) as s:
        img = s.add_image("a.bmp")
        s.set_labels(img, ["crazing"], user="ana")
    with LabelStore.open(ws, read_only=True) as s:
        assert s.labels("a.bmp") == ("crazing",)
        with pytest.raises(ReadOnlyWorkspaceError, match="read-only"):
            s.set_labels("a.bmp", ["patches"], user="ana")
        with pytest.raises(ReadOnlyWorkspaceError):
            s.add_image("b.bmp")
    with LabelStore.open(ws) as s:
        assert s.labels("a.bmp") == ("crazing",) and s.counts()["label events"] == 1


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="running as root: chmod does not stop root from writing "
    "(the mode=ro case above covers read-only behaviour)",
)
def test_a_read_only_folder_opens_read_only(ws):
    with LabelStore.open(ws) as s:
        s.add_image("a.bmp")
    os.chmod(ws / "inspector.db", 0o444)
    os.chmod(ws, 0o555)
    try:
        with LabelStore.open(ws) as s:
            assert s.read_only
            with pytest.raises(ReadOnlyWorkspaceError):
                s.add_image("b.bmp")
    finally:
        os.chmod(ws, 0o755)
        os.chmod(ws / "inspector.db", 0o644)


def test_opening_a_missing_workspace_without_create_fails(ws):
    with pytest.raises(StoreError, match="no Plate Inspector database"):
        LabelStore.open(ws, create=False)
    assert not ws.exists()


def test_backup_is_a_complete_database(store, tmp_path: Path):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    out = store.backup(tmp_path / "backups" / "copy.db")
    with LabelStore.open(out) as copy:
        assert copy.labels("a.bmp") == ("crazing",)
        assert copy.check().ok
    with pytest.raises(StoreError):
        store.backup(store.path)
