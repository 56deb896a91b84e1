"""Label decisions: history, undo/redo as events, status, classes (rename/merge), durability."""

from __future__ import annotations

import sqlite3

import pytest

from inspector.domain import NEU_CLASSES, LabelStatus, Prediction
from inspector.store import LabelStore, NothingToUndoError, UnknownClassError, UnknownImageError


def pred(path: str, probs: tuple[float, ...], version: str = "m1") -> Prediction:
    return Prediction(path, NEU_CLASSES, probs, (0.5,) * 6, version)


def test_a_label_survives_reopening_the_workspace(ws):
    with LabelStore.open(ws) as s:
        img = s.add_image("plates/a.bmp")
        s.set_labels(img, ["scratches", "crazing"], user="ana")
    with LabelStore.open(ws) as s:
        assert s.labels("plates/a.bmp") == ("crazing", "scratches")  # class order, not input order


def test_no_defect_is_a_label_and_differs_from_unlabelled(store):
    a, b = store.add_image("a.bmp"), store.add_image("b.bmp")
    store.set_labels(a, [], user="ana")
    assert store.labels(a) == ()
    assert store.labels(b) is None
    assert store.status(b) is LabelStatus.UNLABELLED
    counts = store.class_counts()
    assert counts["no defect"] == 1 and counts["unlabelled"] == 1


def test_undo_and_redo_append_events_and_never_rewrite_history(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.set_labels(img, ["patches"], user="ana")
    assert store.undo(img, user="ana").labels == ("crazing",)
    assert store.undo(img, user="ana").labels is None
    with pytest.raises(NothingToUndoError):
        store.undo(img, user="ana")
    assert store.redo(img, user="ana").labels == ("crazing",)
    assert store.redo(img, user="ana").labels == ("patches",)
    with pytest.raises(NothingToUndoError):
        store.redo(img, user="ana")
    kinds = [e.kind for e in store.history(img)]
    assert kinds == ["label", "label", "undo", "undo", "redo", "redo"]
    assert store.labels(img) == ("patches",)


def test_a_new_decision_after_undo_clears_redo(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.undo(img, user="ana")
    store.set_labels(img, ["inclusion"], user="ana")
    with pytest.raises(NothingToUndoError):
        store.redo(img, user="ana")


def test_history_is_append_only_even_for_raw_sql(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE label_events SET labels = '[]'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM label_events")
    conn.close()


def test_event_records_who_why_and_what_the_model_showed(store):
    img = store.add_image("a.bmp")
    shown = pred("a.bmp", (0.9, 0.1, 0.2, 0.1, 0.1, 0.7))
    ev = store.set_labels(
        img, ["crazing"], user="bo", role="inspector", reason="scale, not a scratch", seen=shown
    )
    assert (ev.user, ev.role, ev.reason, ev.model_version) == (
        "bo",
        "inspector",
        "scale, not a scratch",
        "m1",
    )
    assert ev.probabilities["scratches"] == pytest.approx(0.7)
    assert ev.model_labels == ("crazing", "scratches")
    assert store.status(img) is LabelStatus.CORRECTED
    store.set_labels(img, ["crazing", "scratches"], user="bo", seen=shown)
    assert store.status(img) is LabelStatus.CONFIRMED


def test_unknown_class_and_unknown_image_are_clear_errors(store):
    img = store.add_image("a.bmp")
    with pytest.raises(UnknownClassError, match="rust"):
        store.set_labels(img, ["rust"], user="ana")
    with pytest.raises(UnknownImageError):
        store.set_labels("nope.bmp", ["crazing"], user="ana")
    assert store.history(img) == []


def test_rename_keeps_history_and_merge_relabels_with_new_events(store):
    a, b = store.add_image("a.bmp"), store.add_image("b.bmp")
    store.set_labels(a, ["crazing", "inclusion"], user="ana")
    store.set_labels(b, ["patches"], user="ana")
    store.rename_class("crazing", "cracks")
    assert store.history(a)[0].labels == ("cracks", "inclusion")
    assert store.merge_classes("inclusion", "patches", user="sup") == 1
    assert store.labels(a) == ("cracks", "patches")
    assert store.labels(b) == ("patches",)  # untouched: no event
    last = store.history(a)[-1]
    assert (last.kind, last.reason) == ("merge", "merge inclusion into patches")
    assert len(store.history(b)) == 1
    assert "inclusion" not in store.classes()
    assert store.class_counts()["patches"] == 2
    # A label naming the merged class means the target class today.
    store.set_labels(b, ["inclusion"], user="ana")
    assert store.labels(b) == ("patches",)


def test_undo_past_a_merge_maps_old_classes_to_the_merge_target(store):
    a = store.add_image("a.bmp")
    store.set_labels(a, ["inclusion"], user="ana")
    store.set_labels(a, ["crazing"], user="ana")
    store.merge_classes("inclusion", "patches", user="sup")
    assert store.undo(a, user="ana").labels == ("patches",)


def test_add_class_then_label_with_it(store):
    store.add_class("oil_stain")
    img = store.add_image("a.bmp")
    store.set_labels(img, ["oil_stain"], user="ana")
    assert store.classes()[-1] == "oil_stain"
    assert store.labels(img) == ("oil_stain",)


def test_review_override_appends_a_supervisor_event(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.review(img, "approve", user="sue")
    d = store.review(img, "override", user="sue", reason="it is scale", labels=["rolled-in_scale"])
    assert store.labels(img) == ("rolled-in_scale",)
    last = store.history(img)[-1]
    assert (last.user, last.role, last.reason) == ("sue", "supervisor", "it is scale")
    assert d.event_id == last.id
    assert [r.decision for r in store.reviews(img)] == ["approve", "override"]


def test_writes_from_two_threads_each_use_their_own_connection(store):
    import threading

    imgs = [store.add_image(f"{i}.bmp") for i in range(4)]
    errors: list[BaseException] = []

    def work(img: int) -> None:
        try:
            for k in range(20):
                store.set_labels(img, [NEU_CLASSES[k % 6]], user="t")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in imgs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.counts()["label events"] == 80
    assert all(store.labels(i) == (NEU_CLASSES[19 % 6],) for i in imgs)
