"""Fine-tuning from a workspace: snapshot, parent weights, evaluation set, candidate, refusals."""

from __future__ import annotations

import json

import pytest
import torch

from inspector import jobs
from inspector.domain import DatasetError
from inspector.loop.config import FinetuneConfig
from inspector.loop.finetune import finetune
from inspector.registry import read_card
from inspector.runtime.ort import OrtPredictor
from inspector.store import LabelStore


def _cfg(ws, **kw) -> FinetuneConfig:
    base = dict(workspace=ws, epochs=2, batch_size=8, threads=1, device="cpu", min_per_class=3)
    return FinetuneConfig(**{**base, **kw})


def test_a_run_registers_a_candidate_with_snapshot_card_and_comparison(workspace):
    ws, _ = workspace
    events = []
    done = jobs.run(finetune(_cfg(ws, version="v2")), on_partial=events.append)
    assert [e.kind for e in events][:2] == ["snapshot", "started"]
    card = read_card(done.model_dir)
    assert card.parent == "tiny-parent" and card.data_hash == done.snapshot_hash
    assert card.training["head"] == "kept"
    assert {"evaluation", "corrected"} <= set(card.metrics["comparison"])
    # The candidate's own calibration and unfamiliar statistics, fitted on its own data.
    assert card.unfamiliar["output"] == "unfamiliar" and len(card.calibration["temperatures"]) == 3
    assert OrtPredictor(done.model_dir, device="cpu").unfamiliar_threshold is not None
    assert (ws / "models" / "v2" / "background.npz").is_file()
    with LabelStore.open(ws) as store:
        mv = store.model_version("v2")
        assert mv.status == "candidate" and mv.parent == "tiny-parent"
        assert store.active_model().name == "tiny-parent"  # nothing promoted by training
        run = store.training_runs()[-1]
        assert run["status"] == "done" and run["model_version"] == "v2"
        snap = store.data_snapshot(store.snapshot_of_run(run["id"]))
        assert snap.hash == done.snapshot_hash
        # The evaluation set is never in what the run trained on.
        ev = set(store.evaluation_set())
        assert ev and ev == {i.image_id for i in snap.role("eval")}
        trained = {i.path for i in snap.role("train")}
        assert not trained & {i.path for i in snap.role("eval")}


def test_labels_written_during_training_do_not_change_the_snapshot(workspace):
    ws, _ = workspace
    job = finetune(_cfg(ws, version="v2"))
    snapshot_event = None
    with LabelStore.open(ws) as store:
        for item in job:
            if isinstance(item, jobs.Partial) and item.value.kind == "snapshot":
                snapshot_event = item.value
                # A person relabels a plate while the run trains.
                first = store.page(limit=1)[0]
                store.set_labels(first.id, ["scratches", "inclusion"], user="bo")
                break
        frozen = store.data_snapshot(snapshot_event.snapshot_id)
        labels = {i.image_id: i.labels for i in frozen.items}
        assert labels[first.id] != ("inclusion", "scratches")
        job.close()


def test_new_class_grows_the_head_and_keeps_the_backbone(workspace, tmp_path):
    from inspector.loop.head import classifier_names, initial_weights
    from inspector.runtime.torch_model import load_torch_model

    _, parent = workspace
    classes = (*read_card(parent).classes, "rust")
    card, mode = initial_weights(parent, classes, tmp_path / "init.safetensors")
    assert mode == "grown"
    from safetensors.torch import load_file

    new = load_file(str(tmp_path / "init.safetensors"))
    old, _ = load_torch_model(parent)
    head = classifier_names(old)
    for k, v in old.state_dict().items():
        if k in head:
            assert torch.equal(new[k][: len(card.classes)], v)  # known classes' rows kept
            assert new[k].shape[0] == len(classes)
        else:
            assert torch.equal(new[k], v)  # backbone untouched


def test_refusals_say_why_and_write_nothing(workspace, tmp_path):
    ws, _ = workspace
    with LabelStore.open(ws) as store:
        store.add_class("rust")
        img = store.add_image(tmp_path / "imagefolder" / "crazing" / "crazing_0.png")
        store.set_labels(img, ["crazing", "rust"], user="ana")
    with pytest.raises(DatasetError, match="rust has only one labelled image"):
        jobs.run(finetune(_cfg(ws)))
    with LabelStore.open(ws) as store:
        store.set_labels(img, ["crazing"], user="ana")
    with pytest.raises(DatasetError, match="too few labelled images for crazing"):
        jobs.run(finetune(_cfg(ws, min_per_class=20)))
    with LabelStore.open(ws) as store:
        assert store.evaluation_set() == {}
        assert [r["status"] for r in store.training_runs()] == ["failed", "failed"]
        assert json.dumps(store.training_runs()[0]["metrics"]).count("one labelled image") == 1


def test_no_labels_is_refused(tmp_path):
    ws = tmp_path / "empty"
    LabelStore.open(ws).close()
    with pytest.raises(DatasetError, match="no labelled images"):
        jobs.run(finetune(_cfg(ws)))


def test_the_preview_says_what_a_run_would_use_and_writes_nothing(workspace):
    from inspector.controllers.finetune import ModelController

    ws, _ = workspace
    text = ModelController(ws, user="eva", role="annotator").summary()
    # 8 plates per class, one drawn into the evaluation set: 7 new per class, no replay data.
    assert text.startswith("Starts from tiny-parent (head kept)")
    assert "crazing 7+0, inclusion 7+0, scratches 7+0" in text
    with LabelStore.open(ws) as store:
        assert store.evaluation_set() == {} and store.latest_snapshot_id() is None
        assert store.training_runs() == []


def _add_class(ws, name, source_class, n=5):
    import cv2

    from tests.conftest import synthetic_plate

    folder = ws.parent / "new" / name
    folder.mkdir(parents=True)
    with LabelStore.open(ws) as store:
        if name not in store.classes():
            store.add_class(name)
        for i in range(n):
            f = folder / f"{name}_{i}.png"
            cv2.imwrite(str(f), synthetic_plate(source_class, 64, seed=100 + i))
            store.set_labels(store.add_image(f), [name], user="ana")


def test_a_new_defect_class_grows_the_head_and_joins_the_evaluation_set(workspace):
    ws, _ = workspace
    jobs.run(finetune(_cfg(ws, version="v2")))
    with LabelStore.open(ws) as store:
        before = dict(store.evaluation_set())
    _add_class(ws, "rust", 1)
    done = jobs.run(finetune(_cfg(ws, version="v3", from_version="v2")))
    card = read_card(done.model_dir)
    assert card.classes == ("crazing", "inclusion", "scratches", "rust")
    assert card.training["head"] == "grown" and card.parent == "v2"
    with LabelStore.open(ws) as store:
        after = store.evaluation_set()
    assert before.items() <= after.items()  # it grew, nothing left it
    assert "rust" in after.values()
    # v2's own training images are unchanged, so v3 replays them instead of learning them anew.
    per = card.training["data_summary"]["per_class"]
    assert per["rust"]["new_or_corrected"] == 4 and per["crazing"]["new_or_corrected"] == 0
    assert per["crazing"]["replay_workspace"] > 0


def test_a_new_product_line_replaces_the_head(tmp_path, make_imagefolder):
    from tests.conftest import make_model_version

    parent = make_model_version(tmp_path / "parent", version="tiny-parent")
    root = make_imagefolder(classes=("dent", "rust", "weld"), per_class=6)
    ws = tmp_path / "line2"
    with LabelStore.open(ws, classes=("dent", "rust", "weld")) as store:
        for c in ("dent", "rust", "weld"):
            for f in sorted((root / c).iterdir()):
                store.set_labels(store.add_image(f), [c], user="ana")
        card = read_card(parent)
        store.register_model(
            card.version,
            classes=card.classes,
            thresholds=card.thresholds,
            path=str(parent),
            status="active",
        )
    done = jobs.run(finetune(_cfg(ws, version="line2-v1")))
    card = read_card(done.model_dir)
    assert card.classes == ("dent", "rust", "weld") and card.training["head"] == "replaced"
    assert card.parent == "tiny-parent"
    assert "baseline" not in card.metrics["comparison"]["evaluation"]
    from inspector.loop import models

    with LabelStore.open(ws) as store:  # nothing in common to gate: promotion goes through
        verdict = models.promote(store, "line2-v1", user="eva", role="supervisor")
        assert verdict["passed"] and store.active_model().name == "line2-v1"
