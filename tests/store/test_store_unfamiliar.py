"""Unfamiliar-plate scores in the store (issue 16): kept with each prediction, read back with the
same verdict (a NaN score stays unfamiliar), put the plate in the sign-off queue, shown by the
``model_predictions`` view, and an older workspace is upgraded without losing a prediction."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

from inspector.domain import NEU_CLASSES, Prediction
from inspector.store import SCHEMA_VERSION, LabelStore
from inspector.store.migrations import MIGRATIONS, migrate

CONFIDENT = (0.95, 0.05, 0.05, 0.05, 0.05, 0.05)  # crazing, far from every threshold


def pred(path: str, unfamiliar: float | None, threshold: float | None = 2.0) -> Prediction:
    return Prediction(
        path,
        NEU_CLASSES,
        CONFIDENT,
        (0.5,) * 6,
        "m1",
        unfamiliar=unfamiliar,
        unfamiliar_threshold=None if unfamiliar is None else threshold,
    )


@pytest.fixture()
def scored(store: LabelStore) -> LabelStore:
    store.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    cases = {"familiar.bmp": 1.2, "odd.bmp": 7.5, "nan.bmp": math.nan, "old.bmp": None}
    cases = {f"/plates/{name}": u for name, u in cases.items()}
    for path in cases:
        store.add_image(path)
    store.add_predictions(pred(p, u) for p, u in cases.items())
    for path in cases:
        store.set_labels(path, ["crazing"], user="ana")
    return store


def test_the_score_and_its_verdict_read_back_as_the_model_gave_them(scored):
    familiar, odd, nan, old = (
        scored.prediction(f"/plates/{p}") for p in ("familiar.bmp", "odd.bmp", "nan.bmp", "old.bmp")
    )
    assert (familiar.unfamiliar, familiar.unfamiliar_threshold) == (1.2, 2.0)
    assert not familiar.is_unfamiliar
    assert odd.unfamiliar == 7.5 and odd.is_unfamiliar
    # SQLite keeps a NaN as NULL; the flag makes it read back as NaN, never as "familiar"
    assert math.isnan(nan.unfamiliar) and nan.is_unfamiliar
    assert old.unfamiliar is None and old.unfamiliar_threshold is None and not old.is_unfamiliar


def test_an_unfamiliar_plate_heads_the_signoff_queue_however_confident(scored):
    items = scored.signoff_queue()
    by_name = {Path(i.path).name: i for i in items}
    assert set(by_name) == {"odd.bmp", "nan.bmp"}  # confident and familiar ones stay out
    assert all("unfamiliar" in i.flags and i.doubt == 0 for i in items)
    assert by_name["odd.bmp"].unfamiliar == 7.5 and by_name["odd.bmp"].unfamiliar_threshold == 2
    assert math.isnan(by_name["nan.bmp"].unfamiliar)
    # rescoring the queue (new bands, a heatmap flag) keeps the unfamiliar flag
    scored.set_low_confidence_bands(0.05, 0.1)
    scored.flag_heatmap("/plates/odd.bmp", "m1", edge=True)
    scored.flag_heatmap("/plates/odd.bmp", "m1", edge=False)
    assert {Path(i.path).name for i in scored.signoff_queue()} == {"odd.bmp", "nan.bmp"}
    # scored again by a model that finds it familiar: out of the queue
    scored.add_predictions([pred("/plates/odd.bmp", 0.3)])
    assert {Path(i.path).name for i in scored.signoff_queue()} == {"nan.bmp"}


def test_the_model_predictions_view_shows_the_score_and_the_flag(scored):
    conn = sqlite3.connect(f"{scored.path.as_uri()}?mode=ro", uri=True)
    rows = {
        Path(r[0]).name: r[1:]
        for r in conn.execute(
            "SELECT path, model, predicted, unfamiliar, unfamiliar_threshold,"
            " unfamiliar_flagged FROM model_predictions"
        )
    }
    conn.close()
    assert rows["familiar.bmp"] == ("m1", "crazing", 1.2, 2.0, 0)
    assert rows["odd.bmp"] == ("m1", "crazing", 7.5, 2.0, 1)
    assert rows["nan.bmp"] == ("m1", "crazing", None, 2.0, 1)
    assert rows["old.bmp"] == ("m1", "crazing", None, None, 0)


def test_a_workspace_from_before_the_scores_is_upgraded_keeping_every_prediction(ws):
    before = next(i for i, m in enumerate(MIGRATIONS) if "unfamiliar" in m.name)
    ws.mkdir()
    db = ws / "inspector.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, db, upto=before)  # the schema of the release before issue 16
    then = "2026-11-01T00:00:00+00:00"
    conn.execute(
        "INSERT INTO model_versions (name, status, classes, thresholds, created_at)"
        " VALUES ('m1', 'active', ?, ?, ?)",
        (json.dumps(NEU_CLASSES), json.dumps([0.5] * 6), then),
    )
    for i in range(5):  # rows the way the older release wrote them (no score columns)
        conn.execute("INSERT INTO images (path, added_at) VALUES (?, ?)", (f"/p/{i}.bmp", then))
        conn.execute("INSERT INTO current_labels (image_id) VALUES (?)", (i + 1,))
        conn.execute(
            "INSERT INTO predictions (image_id, model_id, probabilities, pred_mask, max_prob,"
            " doubt, created_at) VALUES (?, 1, ?, 1, 0.95, 1e9, ?)",
            (i + 1, json.dumps(CONFIDENT), then),
        )
    conn.close()
    with LabelStore.open(ws) as s:
        assert s.check().schema_version == SCHEMA_VERSION
        assert s._conn.execute("SELECT count(*) FROM predictions").fetchone()[0] == 5
        p = s.prediction("/p/3.bmp")
        assert p.probabilities == pytest.approx(CONFIDENT)
        assert p.unfamiliar is None and not p.is_unfamiliar  # an old model had no statistics
        s.add_predictions([pred("/p/3.bmp", 9.0)])  # a new model's score lands beside them
        assert s.prediction("/p/3.bmp").is_unfamiliar
        assert not s.prediction("/p/2.bmp").is_unfamiliar
        assert s._conn.execute("SELECT count(*) FROM predictions").fetchone()[0] == 5


def test_an_upgraded_workspace_measures_doubt_in_log_odds(ws):
    before = next(i for i, m in enumerate(MIGRATIONS) if "log-odds" in m.name)
    ws.mkdir()
    db = ws / "inspector.db"
    conn = sqlite3.connect(db, isolation_level=None)
    migrate(conn, db, upto=before)
    then = "2026-11-01T00:00:00+00:00"
    thresholds = [0.5, 0.5, 0.5, 0.5, 0.93, 0.5]
    conn.execute(
        "INSERT INTO model_versions (name, status, classes, thresholds, created_at)"
        " VALUES ('m1', 'active', ?, ?, ?)",
        (json.dumps(NEU_CLASSES), json.dumps(thresholds), then),
    )
    sure = [0.01, 0.01, 0.01, 0.01, 0.99, 0.01]  # the old rule: 0.06 from 0.93, doubt 0.6
    conn.execute("INSERT INTO images (path, added_at) VALUES ('/p/s.bmp', ?)", (then,))
    conn.execute("INSERT INTO current_labels (image_id) VALUES (1)")
    conn.execute(
        "INSERT INTO predictions (image_id, model_id, probabilities, pred_mask, max_prob,"
        " doubt, created_at) VALUES (1, 1, ?, 16, 0.99, 0.6, ?)",
        (json.dumps(sure), then),
    )
    conn.close()
    with LabelStore.open(ws) as s:
        assert s.low_confidence() == []  # rescored on opening: 2.0 log-odds over 0.93
        assert s._conn.execute("SELECT doubt FROM predictions").fetchone()[0] > 1
