"""Edge attention, box agreement (with real NEU-DET XML when present), deletion test, Grad-CAM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inspector import jobs
from inspector.domain import DatasetError
from inspector.explain import EDGE_FLAG_THRESHOLD, Explainer, edge_attention, edge_flag
from inspector.explain.boxes import Box, box_mask, det_xml_for, read_voc
from inspector.explain.checks import box_agreement, deletion_test
from inspector.explain.gradcam import gradcam
from inspector.metrics import sigmoid


def test_edge_attention_uniform_centre_and_border():
    assert edge_attention(np.ones((100, 100))) == pytest.approx(0.36)  # the band's area share
    centre = np.zeros((100, 100))
    centre[40:60, 40:60] = 1
    border = np.zeros((100, 100))
    border[:, :8] = 1
    border[50, 50] = -5  # negative attribution does not count either way
    assert edge_attention(centre) == 0.0 and not edge_flag(centre)
    assert edge_attention(border) == 1.0 and edge_flag(border)
    assert not edge_flag(np.ones((100, 100)))  # uniform attention is not flagged
    assert 0.36 < EDGE_FLAG_THRESHOLD < 1


def test_box_agreement_ratio():
    m = np.zeros((200, 200))
    m[50:70, 50:70] = 1.0
    mask = box_mask((200, 200), [Box("scratches", 41, 41, 80, 80)], (200, 200))
    assert mask.sum() == 40 * 40
    agree = box_agreement(m, mask)
    assert agree.mass_in_box == 1.0 and agree.area_share == pytest.approx(0.04)
    assert agree.ratio == pytest.approx(25.0)
    # boxes given for a 200 px image, checked on a 400 px map: scaled
    assert box_mask((400, 400), [Box("x", 1, 1, 100, 100)], (200, 200)).sum() == 200 * 200


def test_real_neu_det_annotation_maps_to_its_neu_cls_image(neu_dir, neu_det_dir):
    img = neu_dir / "scratches" / "Sc_12.bmp"
    xml = det_xml_for(img, neu_det_dir)
    assert xml == neu_det_dir / "scratches_12.xml"
    size, boxes = read_voc(xml)
    assert size == (200, 200) and boxes and any(b.name == "scratches" for b in boxes)
    assert det_xml_for(Path("crazing/Cr_99999.bmp"), neu_det_dir) is None


def test_broken_xml_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.xml"
    bad.write_text("<annotation><object>")
    with pytest.raises(DatasetError, match="Pascal VOC"):
        read_voc(bad)


def test_deletion_test_and_gradcam_on_the_tiny_model(model_with_background, plate_png):
    explainer = Explainer(model_with_background)
    expl = jobs.run(explainer.explain(plate_png, classes=["scratches"]))
    x = explainer.card.preprocessing.apply(np.asarray(__import__("cv2").imread(str(plate_png), 0)))
    d = deletion_test(lambda b: sigmoid(explainer.logits(b)[:, 2]), x, expl.model_maps[0])
    assert d.by_attribution.shape == d.at_random.shape == (len(d.fractions),)
    assert d.by_attribution[0] == pytest.approx(d.at_random[0])  # nothing deleted yet
    assert np.isfinite([d.auc_attribution, d.auc_random]).all()
    cam = gradcam(explainer._torch_model(), x, 2)
    assert cam.shape == (48, 48) and (cam >= 0).all() and np.isfinite(cam).all()


def test_deletion_prefers_a_map_that_points_at_what_matters():
    # a "model" whose probability is the mean brightness of the left half: deleting the left half
    # first (what a correct map says) lowers it faster than deleting random pixels.
    x = np.ones((1, 20, 20), np.float32)
    x[:, :, 10:] = 0.0
    good = np.zeros((20, 20))
    good[:, :10] = 1.0
    d = deletion_test(lambda b: b[:, 0, :, :10].mean(axis=(1, 2)), x, good)
    assert d.beats_random


def test_a_defect_boxed_at_the_border_is_not_looking_at_the_edges(tmp_path):
    from inspector.voc import class_mask_beside

    plate = tmp_path / "Sc_1.bmp"
    plate.write_bytes(b"")  # only its name matters here: the annotation is found beside it
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "Sc_1.xml").write_text(
        "<annotation><size><width>200</width><height>200</height></size>"
        "<object><name>scratches</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
        "<xmax>16</xmax><ymax>200</ymax></bndbox></object></annotation>"
    )
    amap = np.zeros((100, 100))
    amap[:, :6] = 1.0  # the evidence: the scratch along the left border
    assert edge_flag(amap)  # box-blind, it reads as "looks at the edges"
    mask = class_mask_beside(plate, "scratches", amap.shape)
    assert mask is not None and mask[:, :8].all() and not mask[:, 9:].any()
    assert edge_attention(amap, inside=mask) == 0.0 and not edge_flag(amap, inside=mask)
    # another class has no box here: its map at the border is still flagged
    assert class_mask_beside(plate, "inclusion", amap.shape) is None
    amap[:, -6:] = 1.0  # half the evidence on the right border, outside the scratch's box
    assert edge_attention(amap, inside=mask) == pytest.approx(0.5) and edge_flag(amap, inside=mask)
