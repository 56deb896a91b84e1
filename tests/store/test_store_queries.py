"""Gallery pages, top losses and the low-confidence queue, as the review views use them."""

from __future__ import annotations

import math

import pytest

from inspector.domain import NEU_CLASSES, LabelStatus, Prediction
from inspector.store import ImageFilter, StoreError


def pred(path: str, probs: tuple[float, ...], version: str = "m1") -> Prediction:
    return Prediction(path, NEU_CLASSES, probs, (0.5,) * 6, version)


@pytest.fixture()
def scored(store):
    """Five images with predictions of an active model; three labelled by people."""
    store.register_model("m1", classes=NEU_CLASSES, thresholds=[0.5] * 6, status="active")
    probs = {
        "a.bmp": (0.95, 0.05, 0.05, 0.05, 0.05, 0.05),  # confident crazing
        "b.bmp": (0.55, 0.05, 0.05, 0.05, 0.05, 0.05),  # crazing, barely
        "c.bmp": (0.05, 0.05, 0.42, 0.05, 0.05, 0.05),  # nothing over, patches close
        "d.bmp": (0.05, 0.90, 0.05, 0.05, 0.05, 0.05),  # confident inclusion
        "e.bmp": (0.05, 0.05, 0.05, 0.05, 0.05, 0.05),  # confident no defect
    }
    for p in probs:
        store.add_image(p)
    store.add_predictions(pred(p, v) for p, v in probs.items())
    store.set_labels("a.bmp", ["crazing"], user="ana", seen=pred("a.bmp", probs["a.bmp"]))
    store.set_labels("d.bmp", ["scratches"], user="ana", seen=pred("d.bmp", probs["d.bmp"]))
    store.set_labels("e.bmp", [], user="ana", seen=pred("e.bmp", probs["e.bmp"]))
    return store


def names(rows) -> list[str]:
    return [r.path.rsplit("/", 1)[-1] for r in rows]


def test_page_filters(scored):
    assert names(scored.page()) == ["a.bmp", "b.bmp", "c.bmp", "d.bmp", "e.bmp"]
    assert names(scored.page(ImageFilter(status="unlabelled"))) == ["b.bmp", "c.bmp"]
    assert names(scored.page(ImageFilter(status=LabelStatus.CORRECTED))) == ["d.bmp"]
    assert names(scored.page(ImageFilter(status="confirmed"))) == ["a.bmp", "e.bmp"]
    assert names(scored.page(ImageFilter(label="scratches"))) == ["d.bmp"]
    assert names(scored.page(ImageFilter(label="no defect"))) == ["e.bmp"]
    assert names(scored.page(ImageFilter(predicted="crazing"))) == ["a.bmp", "b.bmp"]
    assert names(scored.page(ImageFilter(predicted="no defect"))) == ["c.bmp", "e.bmp"]
    band = ImageFilter(prob_class="patches", prob_min=0.3, prob_max=0.6)
    assert names(scored.page(band)) == ["c.bmp"]
    assert names(scored.page(ImageFilter(prob_min=0.9))) == ["a.bmp", "d.bmp"]
    assert scored.count(ImageFilter(predicted="crazing", status="unlabelled")) == 1


def test_paging_by_offset_and_by_last_id(scored):
    first = scored.page(limit=2)
    assert names(first) == ["a.bmp", "b.bmp"]
    assert names(scored.page(limit=2, offset=2)) == ["c.bmp", "d.bmp"]
    assert names(scored.page(limit=2, after_id=first[-1].id)) == ["c.bmp", "d.bmp"]


def test_missing_filter(scored, tmp_path):
    real = tmp_path / "real.bmp"
    real.write_bytes(b"x")
    scored.add_image(real)
    assert names(scored.page(ImageFilter(missing=False))) == ["real.bmp"]
    assert scored.count(ImageFilter(missing=True)) == 5
    real.unlink()
    assert scored.refresh_missing() == 6


def test_rows_carry_what_the_gallery_shows(scored):
    row = scored.page(ImageFilter(label="scratches"))[0]
    assert row.labels == ("scratches",) and row.predicted == ("inclusion",)
    assert row.probabilities["inclusion"] == pytest.approx(0.9)
    assert row.status is LabelStatus.CORRECTED


def test_top_losses_descending_and_follow_label_changes(scored):
    top = scored.top_losses()
    assert names(top) == ["d.bmp", "a.bmp", "e.bmp"]  # only labelled images have a loss
    expected = -(math.log(0.1) + math.log(0.95) * 4 + math.log(0.05)) / 6
    assert top[0].loss == pytest.approx(expected, rel=1e-6)
    # Labelling d as the model says shrinks its loss at once (recomputed in the same write).
    scored.set_labels("d.bmp", ["inclusion"], user="ana")
    after = {r.path.rsplit("/", 1)[-1]: r.loss for r in scored.top_losses()}
    assert after["d.bmp"] < top[0].loss / 10
    losses = [r.loss for r in scored.top_losses()]
    assert losses == sorted(losses, reverse=True)
    scored.undo("d.bmp", user="ana")
    assert names(scored.top_losses())[0] == "d.bmp"


def test_low_confidence_queue_and_review_removes_it(scored):
    # In log-odds: b is 0.20 over a threshold (0.4 of the 0.5 band); c has nothing over,
    # patches 0.32 below (0.32 of the 1.0 "none over" band), so c is the more doubtful.
    # a, d, e are confident.
    assert names(scored.low_confidence()) == ["c.bmp", "b.bmp"]
    scored.review("c.bmp", "approve", user="sue")
    assert names(scored.low_confidence()) == ["b.bmp"]
    scored.set_labels("b.bmp", ["crazing"], user="ana")
    assert scored.low_confidence() == []


def test_low_confidence_band_is_configurable(scored):
    scored.set_low_confidence_bands(0.01, 0.01)
    assert scored.low_confidence() == []
    scored.set_low_confidence_bands(0.5, 1.0)
    assert names(scored.low_confidence()) == ["c.bmp", "b.bmp"]
    with pytest.raises(StoreError, match="log-odds"):
        scored.set_low_confidence_bands(0, 1.0)


def test_a_sure_plate_of_a_class_with_a_high_threshold_is_not_doubtful(store):
    # The shipped model's rolled-in scale threshold is 0.93: as a probability gap every sure
    # rolled-in scale plate (0.99) was "within 0.1" of it and the queue held a fifth of NEU.
    thresholds = (0.5, 0.5, 0.2, 0.5, 0.93, 0.5)
    store.register_model("m1", classes=NEU_CLASSES, thresholds=thresholds, status="active")
    probs = {
        "sure.bmp": (0.01, 0.01, 0.05, 0.01, 0.99, 0.01),
        "unsure.bmp": (0.01, 0.01, 0.05, 0.01, 0.95, 0.01),  # 0.35 log-odds over 0.93
        "patchy.bmp": (0.01, 0.01, 0.26, 0.01, 0.01, 0.01),  # 0.34 log-odds over 0.20
        "clean.bmp": (0.01, 0.01, 0.12, 0.01, 0.01, 0.90),  # patches 0.6 log-odds under
    }
    for p, v in probs.items():
        store.add_image(p)
        store.add_predictions([Prediction(p, NEU_CLASSES, v, thresholds, "m1")])
    assert set(names(store.low_confidence())) == {"unsure.bmp", "patchy.bmp"}


def test_queues_use_the_active_model_and_follow_promotion(scored):
    scored.add_predictions([pred("c.bmp", (0.05, 0.05, 0.99, 0.05, 0.05, 0.05), "m2")])
    assert scored.active_model().name == "m1"
    scored.set_model_status("m2", "active")
    assert scored.model_version("m1").status == "retired"
    assert names(scored.page(ImageFilter(predicted="patches"))) == ["c.bmp"]
    assert names(scored.low_confidence(model_version="m1")) == ["c.bmp", "b.bmp"]
    assert scored.low_confidence() == []


def test_filters_needing_a_model_say_so(store):
    store.add_image("a.bmp")
    with pytest.raises(StoreError, match="no active model"):
        store.page(ImageFilter(predicted="crazing"))
    assert store.top_losses() == [] and store.low_confidence() == []


def test_training_snapshot_lists_labelled_images(scored):
    snap = dict(
        (p.rsplit("/", 1)[-1], labels)
        for p, labels in scored.training_snapshot(include_missing=True)
    )
    assert snap == {"a.bmp": ("crazing",), "d.bmp": ("scratches",), "e.bmp": ()}


def test_a_renamed_class_still_matches_the_models_old_name(scored):
    # m1 was trained with "crazing"; the workspace renames it. Labels are stored by class id,
    # the model's outputs by name: loss, predicted classes and status must still line up.
    before = {r.path.rsplit("/", 1)[-1]: r.loss for r in scored.top_losses()}
    scored.rename_class("crazing", "cracks")
    scored.set_labels("a.bmp", ["cracks"], user="ana")  # same label, recomputed after the rename
    after = {r.path.rsplit("/", 1)[-1]: r.loss for r in scored.top_losses()}
    assert after["a.bmp"] == pytest.approx(before["a.bmp"])
    # Predictions stored after the rename map the old output name onto the renamed class.
    scored.add_predictions([pred("b.bmp", (0.9, 0.05, 0.05, 0.05, 0.05, 0.05))])
    assert names(scored.page(ImageFilter(predicted="cracks"))) == ["a.bmp", "b.bmp"]
    # What the person saw ("crazing" suggested) agrees with the label: confirmed, not corrected.
    shown = pred("b.bmp", (0.9, 0.05, 0.05, 0.05, 0.05, 0.05))
    ev = scored.set_labels("b.bmp", ["cracks"], user="ana", seen=shown)
    assert ev.model_labels == ("cracks",)
    assert scored.status("b.bmp") is LabelStatus.CONFIRMED
    # Renaming again keeps every old name; a current name always wins over an old one.
    scored.rename_class("cracks", "fine cracks")
    scored.set_labels("a.bmp", ["fine cracks"], user="ana")
    assert {r.path.rsplit("/", 1)[-1]: r.loss for r in scored.top_losses()}[
        "a.bmp"
    ] == pytest.approx(before["a.bmp"])
    scored.add_class("crazing")
    scored.add_predictions([pred("c.bmp", (0.9, 0.05, 0.05, 0.05, 0.05, 0.05))])
    assert scored.page(ImageFilter(predicted="crazing"))[0].path.endswith("c.bmp")
