"""Promote / roll back / discard / import, through the real CLI, with the regression gate."""

from __future__ import annotations

import json

import torch

from inspector import jobs
from inspector.__main__ import main
from inspector.imageio import PreprocessSpec
from inspector.loop.config import FinetuneConfig
from inspector.loop.finetune import finetune
from inspector.loop.head import classifier_names
from inspector.loop.models import gate
from inspector.registry import ModelCard
from inspector.runtime.export import export_model_version
from inspector.runtime.torch_model import build_model
from inspector.store import LabelStore
from tests.conftest import TINY_CLASSES


def _constant_model(out, version="blind"):
    """A real model version that gives every plate the same probabilities (it sees nothing)."""
    torch.manual_seed(0)
    model = build_model("mobilenetv3_small_050", len(TINY_CLASSES), 1)
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if k in classifier_names(model):
                v.zero_()
    card = ModelCard(
        version=version,
        architecture="mobilenetv3_small_050",
        classes=TINY_CLASSES,
        preprocessing=PreprocessSpec(size=48, channels=1, mean=(0.5,), std=(0.5,)),
        thresholds=(0.5, 0.5, 0.5),
    )
    export_model_version(model, card, out)
    return out


def _model(ws, *argv):
    return main(["model", *argv, "--workspace", str(ws)])


def test_gate_limits():
    per = {"a": {"ap": 0.9}, "b": {"ap": 0.9}}
    base = {"macro_ap": 0.9, "per_class": per}
    ok = {"macro_ap": 0.896, "per_class": {"a": {"ap": 0.892}, "b": {"ap": 0.9}}}
    assert gate(ok, base)["passed"]
    macro = {"macro_ap": 0.894, "per_class": per}
    assert gate(macro, base)["reasons"] == ["macro AP falls by 0.60 points (limit 0.5)"]
    one = {"macro_ap": 0.9, "per_class": {"a": {"ap": 0.875}, "b": {"ap": 0.9}}}
    assert gate(one, base)["reasons"] == ["a AP falls by 2.50 points (limit 2)"]
    assert not gate({"macro_ap": float("nan"), "per_class": {}}, base)["passed"]


def test_promote_gate_override_rollback_discard_import(workspace, tmp_path, capsys):
    ws, _ = workspace
    cfg = FinetuneConfig(
        workspace=ws, epochs=4, lr=3e-3, batch_size=8, threads=1, device="cpu", version="v2"
    )
    jobs.run(finetune(cfg))
    # Not a supervisor: refused, nothing changes.
    assert _model(ws, "promote", "v2") == 2
    assert "only a supervisor can promote a model" in capsys.readouterr().err
    assert _model(ws, "promote", "v2", "--role", "supervisor", "--override", "first fine-tune") == 0
    with LabelStore.open(ws) as store:
        assert store.active_model().name == "v2"

    # A blind model, imported (as from a cluster), is refused by the gate against v2 ...
    blind = _constant_model(tmp_path / "blind")
    assert _model(ws, "import", str(blind), "--role", "supervisor") == 0
    capsys.readouterr()
    assert _model(ws, "promote", "blind", "--role", "supervisor") == 2
    err = capsys.readouterr().err
    assert "promotion of blind refused: macro AP falls by" in err and err.count("\n") == 1
    with LabelStore.open(ws) as store:
        assert store.active_model().name == "v2"
        # ... and a supervisor's written override is recorded with the gate's numbers.
        from inspector.loop import models

        models.promote(store, "blind", user="eva", role="supervisor", override="line test")
        last = store.model_decisions()[-1]
        assert (last["action"], last["user"], last["reason"]) == ("promote", "eva", "line test")
        assert last["gate"]["passed"] is False and last["gate"]["overridden"] is True
        assert last["previous_active"] == "v2"

    assert _model(ws, "rollback", "--role", "supervisor") == 0
    assert _model(ws, "discard", "blind", "--role", "supervisor") == 0
    capsys.readouterr()
    assert _model(ws, "list", "--json") == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["v2"]["status"] == "active" and rows["blind"]["status"] == "discarded"
    assert rows["tiny-parent"]["status"] == "retired"
    assert rows["v2"]["eval_macro_ap"] is not None
