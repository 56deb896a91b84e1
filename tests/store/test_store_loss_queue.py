"""The annotators' top-loss queue in the store: order, class-pair and user filters, keyset
pages, and an image leaving the queue once decided with the model's prediction in view."""

from __future__ import annotations

import pytest

from inspector.domain import NEU_CLASSES, Prediction
from inspector.store.loss_queue import LossFilter


def pred(path: str, probs: tuple[float, ...], version: str = "m1") -> Prediction:
    return Prediction(path, NEU_CLASSES, probs, (0.5,) * 6, version)


P = {  # crazing, inclusion, patches, pitted, rolled-in, scratches
    "a.bmp": (0.95, 0.05, 0.05, 0.05, 0.05, 0.05),
    "b.bmp": (0.05, 0.05, 0.05, 0.05, 0.05, 0.97),
    "c.bmp": (0.05, 0.60, 0.05, 0.05, 0.05, 0.30),
    "d.bmp": (0.05, 0.05, 0.90, 0.05, 0.05, 0.05),
    "e.bmp": (0.05, 0.05, 0.05, 0.05, 0.05, 0.05),
}
LABELS = {  # imported ground truth, some of it wrong
    "a.bmp": ["crazing"],  # right: tiny loss
    "b.bmp": ["inclusion"],  # wrong: the model is sure it is scratches
    "c.bmp": ["inclusion"],  # right, the model a bit unsure
    "d.bmp": ["crazing"],  # wrong
    "e.bmp": [],  # right: no defect
}


@pytest.fixture()
def queue(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the files exist (re-scoring skips missing ones)
    store.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    for p in P:
        (tmp_path / p).write_bytes(b"plate")
        store.add_image(p)
    store.add_predictions(pred(p, v) for p, v in P.items())
    for p, labels in LABELS.items():
        store.set_labels(p, labels, user="importer" if p != "d.bmp" else "bo")
    return store


def names(rows) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in rows]


def test_highest_loss_first_with_what_the_table_shows(queue):
    rows = queue.loss_page()
    assert names(rows) == ["b.bmp", "d.bmp", "c.bmp", "a.bmp", "e.bmp"]
    assert [r.loss for r in rows] == sorted((r.loss for r in rows), reverse=True)
    b = rows[0]
    assert b.predicted == ("scratches",) and b.labels == ("inclusion",)
    assert b.probabilities["scratches"] == pytest.approx(0.97) and b.user == "importer"
    assert queue.loss_count() == 5


def test_class_pair_and_user_filters(queue):
    pair = LossFilter(predicted="scratches", label="inclusion")
    assert names(queue.loss_page(pair)) == ["b.bmp"]
    assert names(queue.loss_page(LossFilter(label="no defect"))) == ["e.bmp"]
    assert names(queue.loss_page(LossFilter(predicted="no defect"))) == ["e.bmp"]
    assert names(queue.loss_page(LossFilter(user="bo"))) == ["d.bmp"]
    assert queue.loss_count(LossFilter(user="bo")) == 1
    assert queue.labellers() == ["bo", "importer"]


def test_keyset_pages_cover_the_queue_once(queue):
    seen, after = [], None
    while page := queue.loss_page(limit=2, after=after):
        seen += names(page)
        after = page[-1].key
    assert seen == names(queue.loss_page())


def test_deciding_with_the_prediction_in_view_takes_the_image_out_and_undo_brings_it_back(queue):
    shown = queue.prediction("b.bmp")
    queue.set_labels("b.bmp", ["inclusion"], user="ana", reason="label is right", seen=shown)
    assert "b.bmp" not in names(queue.loss_page())
    assert "b.bmp" in names(queue.loss_page(LossFilter(include_checked=True)))
    queue.undo("b.bmp", user="ana")
    assert names(queue.loss_page())[0] == "b.bmp"
    # a decision made with another model in view does not count as checked against m1
    queue.set_labels("d.bmp", ["patches"], user="ana", seen=pred("d.bmp", P["d.bmp"], "m0"))
    assert "d.bmp" in names(queue.loss_page())


def test_queue_of_another_model_version_and_what_it_lacks(queue, tmp_path):
    queue.add_predictions([pred("a.bmp", (0.1, 0.1, 0.1, 0.1, 0.1, 0.9), "m2")])
    assert names(queue.loss_page(LossFilter(model_version="m2"))) == ["a.bmp"]
    assert sorted([p.rsplit("/", 1)[-1] for p in queue.unscored("m2")]) == [
        "b.bmp",
        "c.bmp",
        "d.bmp",
        "e.bmp",
    ]
    assert queue.unscored("m1") == []
    (tmp_path / "c.bmp").unlink()
    queue.refresh_missing()
    assert "c.bmp" not in [p.rsplit("/", 1)[-1] for p in queue.unscored("m2")]


def test_supervisor_pin_is_kept_as_given(queue):
    assert queue.supervisor_pin_hash() == ""
    queue.set_supervisor_pin_hash("scrypt$1$2$3$ab$cd")
    assert queue.supervisor_pin_hash() == "scrypt$1$2$3$ab$cd"
