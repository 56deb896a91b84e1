"""The workspace is a plain SQLite file: its documented read-only views, read the way
docs/workspace-sql.md tells people to (sqlite-utils on a read-only connection, Datasette)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from inspector.store import LabelStore
from inspector.store.migrations import VIEWS


@pytest.fixture()
def busy(store: LabelStore) -> LabelStore:
    """A small workspace with history, reviews and a model version with metrics."""
    a, b, c = (store.add_image(f"/plates/{n}.bmp") for n in "abc")
    store.set_labels(a, ["crazing", "patches"], user="ana")
    store.set_labels(a, [], user="bo", reason="looked again")
    store.set_labels(b, ["scratches"], user="ana")
    store.undo(b, user="ana")
    store.review(a, "approve", user="sue")
    store.review(c, "override", user="sue", reason="it is scale", labels=["rolled-in_scale"])
    store.rename_class("crazing", "cracks")  # views show today's names
    store.register_model(
        "m1",
        classes=["cracks", "patches"],
        thresholds=[0.5, 0.5],
        metrics={"f1": 0.97, "per_class": {"cracks": 0.9}},
        status="active",
    )
    return store


def read_only_db(path: Path) -> sqlite_utils.Database:
    """How docs/workspace-sql.md opens a workspace: sqlite-utils over a mode=ro connection."""
    return sqlite_utils.Database(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))


def test_the_documented_views_exist_and_match_the_store(busy: LabelStore):
    db = read_only_db(busy.path)
    assert set(VIEWS) <= set(db.view_names())
    current = {r["path"]: r for r in db["labels_current"].rows}
    for path, row in current.items():
        labels = busy.labels(path)
        assert row["labels"] == (None if labels is None else ";".join(labels))
        assert row["status"] == busy.status(path).value
    assert current["/plates/a.bmp"]["labels"] == ""  # no defect
    assert current["/plates/b.bmp"]["labels"] is None  # undone: unlabelled
    assert current["/plates/c.bmp"]["decided_by"] == "sue"


def test_the_audit_trail_says_who_when_and_old_to_new(busy: LabelStore):
    db = read_only_db(busy.path)
    trail = list(
        db.query("SELECT * FROM label_audit WHERE path = '/plates/a.bmp' ORDER BY event_id")
    )
    assert [(r["user"], r["old_labels"], r["new_labels"]) for r in trail] == [
        ("ana", None, "cracks;patches"),
        ("bo", "cracks;patches", ""),
    ]
    # the order is the event ids; two events may share a clock tick
    assert trail[1]["reason"] == "looked again" and trail[1]["at"] >= trail[0]["at"]
    undo = next(db.query("SELECT * FROM label_audit WHERE kind = 'undo'"))
    assert (undo["old_labels"], undo["new_labels"]) == ("scratches", None)
    assert len(list(db["label_audit"].rows)) == busy.counts()["label events"]


def test_review_decisions_and_model_metrics(busy: LabelStore):
    db = read_only_db(busy.path)
    reviews = {r["path"]: r for r in db["review_log"].rows}
    assert reviews["/plates/a.bmp"]["decision"] == "approve"
    assert reviews["/plates/c.bmp"]["labels"] == "rolled-in_scale"
    assert reviews["/plates/c.bmp"]["reason"] == "it is scale"
    (model,) = db["model_metrics"].rows
    assert model["model"] == "m1" and model["status"] == "active"
    values = {r["metric"]: r["value"] for r in db["model_metric_values"].rows}
    assert values == {"f1": 0.97}  # nested metrics stay in model_metrics.metrics (JSON)


def test_a_read_only_connection_cannot_write_and_sees_new_commits(busy: LabelStore):
    db = read_only_db(busy.path)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db["images"].insert({"path": "/x.bmp", "added_at": "now"})
    before = db["labels_current"].count
    busy.add_image("/plates/d.bmp")  # the store keeps writing while someone reads
    assert db["labels_current"].count == before + 1


def test_datasette_serves_the_views_read_only(busy: LabelStore):
    datasette_app = pytest.importorskip(
        "datasette.app", reason="Datasette is not installed (pip install datasette)"
    )
    ds = datasette_app.Datasette([str(busy.path)])

    async def fetch() -> list[dict]:
        await ds.invoke_startup()
        r = await ds.client.get("/inspector/labels_current.json?_shape=array")
        assert r.status_code == 200
        return r.json()

    rows = asyncio.run(fetch())
    assert {r["path"]: r["labels"] for r in rows}["/plates/c.bmp"] == "rolled-in_scale"
    assert not ds.databases["inspector"].is_memory and ds.databases["inspector"].is_mutable
