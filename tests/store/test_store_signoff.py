"""The supervisors' reads and writes: threshold revisions, the sign-off queue, the review log."""

from __future__ import annotations

import pytest

from inspector.domain import NEU_CLASSES, Prediction
from inspector.store import LabelStore, StoreError
from inspector.store.signoff import QueueFilter


def pred(path: str, probs: tuple[float, ...], version: str = "m1") -> Prediction:
    return Prediction(path, NEU_CLASSES, probs, (0.5,) * 6, version)


PROBS = {
    "a.bmp": (0.95, 0.05, 0.05, 0.05, 0.05, 0.05),  # confident crazing
    "b.bmp": (0.55, 0.05, 0.05, 0.05, 0.05, 0.05),  # crazing, barely (in the band)
    "c.bmp": (0.05, 0.05, 0.42, 0.05, 0.05, 0.05),  # nothing over, patches close
    "d.bmp": (0.05, 0.70, 0.05, 0.05, 0.05, 0.05),  # inclusion, 0.2 over
    "e.bmp": (0.05, 0.05, 0.05, 0.05, 0.05, 0.05),  # confident no defect, never labelled
}


@pytest.fixture()
def sup(store: LabelStore) -> LabelStore:
    store.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    for p in PROBS:
        store.add_image(p)
    store.add_predictions(pred(p, v) for p, v in PROBS.items())
    store.set_labels("a.bmp", ["crazing"], user="ana")
    store.set_labels("b.bmp", ["crazing"], user="ana")
    store.set_labels("c.bmp", [], user="bob")
    store.set_labels("d.bmp", ["inclusion"], user="bob")
    return store


def names(items) -> list[str]:
    return [i.path.rsplit("/", 1)[-1] for i in items]


def test_queue_lists_doubtful_labelled_decisions_most_doubtful_first(sup):
    items = sup.signoff_queue()
    assert names(items) == ["c.bmp", "b.bmp"]  # e is doubtless and unlabelled anyway
    c = items[0]
    assert c.labels == () and c.labelled_by == "bob" and c.model_version == "m1"
    assert c.probabilities["patches"] == pytest.approx(0.42) and c.thresholds["patches"] == 0.5
    assert sup.signoff_count() == 2


def test_a_review_signs_the_decision_off_and_a_relabel_brings_it_back(sup):
    sup.review("c.bmp", "approve", user="sue")
    assert names(sup.signoff_queue()) == ["b.bmp"]
    sup.review("b.bmp", "override", user="sue", reason="it is scale", labels=["rolled-in_scale"])
    assert sup.signoff_queue() == []
    sup.set_labels("c.bmp", ["patches"], user="bob")  # a new decision, not signed off yet
    assert names(sup.signoff_queue()) == ["c.bmp"]


def test_queue_filters_by_user_time_and_model(sup):
    assert names(sup.signoff_queue(QueueFilter(user="ana"))) == ["b.bmp"]
    assert sup.signoff_count(QueueFilter(user="nobody")) == 0
    assert sup.signoff_queue(QueueFilter(since="2999-01-01")) == []
    assert names(sup.signoff_queue(QueueFilter(until="2999-01-01"))) == ["c.bmp", "b.bmp"]
    sup.add_predictions([pred("b.bmp", PROBS["a.bmp"], "m2")])
    assert sup.signoff_queue(QueueFilter(model_version="m2")) == []
    assert sup.labellers() == ["ana", "bob"]


def test_the_cards_thresholds_are_revision_1(sup):
    (rev,) = sup.threshold_revisions("m1")
    assert rev.revision == 1 and rev.thresholds == (0.5,) * 6 and rev.previous is None


def test_a_threshold_revision_is_kept_and_refags_the_queue_and_predictions(sup):
    new = [0.5, 0.63, 0.5, 0.5, 0.5, 0.5]  # inclusion 0.70 is now within the 0.1 band
    rev = sup.add_threshold_revision("m1", new, user="sue", role="supervisor", reason="fewer FA")
    assert rev.revision == 2 and rev.user == "sue" and rev.reason == "fewer FA"
    assert rev.changes() == [("inclusion", 0.5, 0.63)]
    assert [r.revision for r in sup.threshold_revisions("m1")] == [1, 2]
    assert sup.model_version("m1").thresholds == tuple(new)
    assert sup.prediction("d.bmp").thresholds == tuple(new)
    assert names(sup.signoff_queue()) == ["c.bmp", "b.bmp", "d.bmp"]
    sup.add_threshold_revision("m1", [0.5, 0.75, 0.5, 0.5, 0.5, 0.5], user="sue", role="s")
    from inspector.store import ImageFilter

    # 0.70 < 0.75: inclusion is no longer predicted anywhere
    assert sup.page(ImageFilter(predicted="inclusion")) == []
    # predictions stored later use the active revision too
    sup.add_image("f.bmp")
    sup.add_predictions([pred("f.bmp", (0.05, 0.72, 0.05, 0.05, 0.05, 0.05))])
    assert sup.page(ImageFilter(predicted="inclusion")) == []


def test_bad_revisions_are_refused_in_one_line(sup):
    with pytest.raises(StoreError, match="between 0 and 1"):
        sup.add_threshold_revision("m1", [1.5] * 6, user="sue", role="supervisor")
    with pytest.raises(StoreError, match="6 classes"):
        sup.add_threshold_revision("m1", [0.5] * 3, user="sue", role="supervisor")
    assert len(sup.threshold_revisions("m1")) == 1


def test_a_flagged_heatmap_puts_a_confident_decision_in_the_queue(sup):
    assert sup.flag_heatmap("a.bmp", "m1", edge=True)
    q = sup.signoff_queue()
    assert names(q) == ["a.bmp", "c.bmp", "b.bmp"] and q[0].flags == ("edge",)
    sup.set_low_confidence_bands(0.1, 0.2)  # rescoring keeps the flag
    assert names(sup.signoff_queue())[0] == "a.bmp"
    sup.flag_heatmap("a.bmp", "m1", edge=False)
    assert "a.bmp" not in names(sup.signoff_queue())


def test_the_log_has_one_row_per_review_decision(sup):
    sup.review("c.bmp", "approve", user="sue")
    sup.review("b.bmp", "override", user="sue", reason="it is scale", labels=["rolled-in_scale"])
    log = sup.signoff_log()
    assert [(r.decision, r.supervisor) for r in log] == [("approve", "sue"), ("override", "sue")]
    assert log[0].labels == () and log[0].labelled_by == "bob"
    assert log[1].labels == ("rolled-in_scale",) and log[1].labelled_by == "ana"
    assert log[1].reason == "it is scale"
    assert sup.signoff_log(since="2999-01-01") == []


def test_scored_image_sets(sup):
    classes, y, p = sup.scored("m1", "all")
    assert classes == NEU_CLASSES and y.shape == (4, 6) and p.shape == (4, 6)
    assert y[:, 0].tolist() == [1, 1, 0, 0]
    assert p[3, 1] == pytest.approx(0.70)
    assert sup.scored("m1", "evaluation")[1].shape == (0, 6)  # nothing imported
    assert sup.scored("m1", "human", since="2999-01-01")[1].shape == (0, 6)


def test_a_workspace_from_before_revisions_gets_the_cards_thresholds_as_revision_1(ws):
    import sqlite3

    from inspector.store.migrations import MIGRATIONS, migrate

    before = next(i for i, m in enumerate(MIGRATIONS) if "threshold revisions" in m.name)
    ws.mkdir()
    conn = sqlite3.connect(ws / "inspector.db", isolation_level=None)
    migrate(conn, ws / "inspector.db", upto=before)
    conn.execute(
        "INSERT INTO model_versions (name, classes, thresholds, created_at)"
        " VALUES ('old', '[\"crazing\"]', '[0.42]', '2026-01-01T00:00:00+00:00')"
    )
    conn.close()
    with LabelStore.open(ws) as s:
        (rev,) = s.threshold_revisions("old")
        assert rev.revision == 1 and rev.thresholds == (0.42,) and rev.user == "model card"
        assert rev.created_at.startswith("2026-01-01")
        s.add_threshold_revision("old", [0.3], user="sue", role="supervisor")
        assert s.model_version("old").thresholds == (0.3,)
