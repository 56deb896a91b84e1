"""Undo is yours: Ctrl+Z undoes the person's own last decision on an image, never a decision a
colleague made since (the old undo replayed the image's last event, whoever made it)."""

from __future__ import annotations

import pytest

from inspector.store import NothingToUndoError, NotYourDecisionError


def test_undo_never_throws_away_a_colleagues_later_decision(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.set_labels(img, ["patches"], user="bo")
    with pytest.raises(NotYourDecisionError, match="bo changed this label after you"):
        store.undo(img, user="ana")
    assert store.labels(img) == ("patches",)  # bo's decision stands
    assert [e.kind for e in store.history(img)] == ["label", "label"]  # nothing was written
    # bo may undo his own decision; that brings back ana's, which she may then undo
    assert store.undo(img, user="bo").labels == ("crazing",)
    assert store.undo(img, user="ana").labels is None


def test_someone_without_a_decision_on_the_image_has_nothing_to_undo(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    with pytest.raises(NotYourDecisionError, match="no decision on this image"):
        store.undo(img, user="bo")
    assert store.labels(img) == ("crazing",)


def test_redo_is_yours_too(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.undo(img, user="ana")
    with pytest.raises(NotYourDecisionError, match="nothing of yours to redo"):
        store.redo(img, user="bo")
    assert store.redo(img, user="ana").labels == ("crazing",)
    with pytest.raises(NothingToUndoError):
        store.redo(img, user="ana")


def test_a_label_a_supervisor_approved_is_not_undone(store):
    img = store.add_image("a.bmp")
    store.set_labels(img, ["crazing"], user="ana")
    store.review(img, "approve", user="sue")
    with pytest.raises(NotYourDecisionError, match="supervisor approved"):
        store.undo(img, user="ana")
    store.set_labels(img, ["patches"], user="ana")  # a new decision of hers is hers to undo
    assert store.undo(img, user="ana").labels == ("crazing",)
