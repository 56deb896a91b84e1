"""A workspace's model versions: list, promote (behind the regression gate), roll back, discard, import.

::

    versions(store)                                   # rows for `inspector model list`
    promote(store, "ft-1", user="eva", role="supervisor")          # GateRefused if it regresses
    promote(store, "ft-1", user="eva", role="supervisor", override="new scratch type matters more")
    rollback(store, user="eva", role="supervisor")    # the version active before the current one
    discard(store, "ft-2", user="eva", role="supervisor")

The **regression gate** compares the candidate with the active version on the workspace's
evaluation set (the frozen copy in the candidate's snapshot): promotion is refused when macro AP
falls by more than :data:`MACRO_AP_DROP` or any class's AP by more than :data:`CLASS_AP_DROP`.
A supervisor may override with a written reason; the reason and the gate's numbers are stored
with the decision. Every action is supervisor-only and recorded in ``model_decisions``.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from inspector.atomic import replace_dir
from inspector.domain import InspectorError, ModelError, require_supervisor
from inspector.registry import check_model_dir, read_card
from inspector.store import LabelStore

__all__ = [
    "CLASS_AP_DROP",
    "MACRO_AP_DROP",
    "GateRefused",
    "discard",
    "gate",
    "import_version",
    "promote",
    "rollback",
    "versions",
]

#: Largest allowed fall of macro AP on the evaluation set (0.5 points).
MACRO_AP_DROP = 0.005
#: Largest allowed fall of any one class's AP (2 points).
CLASS_AP_DROP = 0.02


require = require_supervisor  # the one rule, shared with the window


class GateRefused(InspectorError):
    """The candidate regresses on the evaluation set; a supervisor may override with a reason."""


@dataclass(frozen=True)
class VersionRow:
    name: str
    status: str  # candidate | active | retired | discarded
    parent: str | None
    created_at: str
    eval_macro_ap: float | None
    baseline_macro_ap: float | None
    flips: int | None
    path: str


def versions(store: LabelStore) -> list[VersionRow]:
    discarded = {d["model_version"] for d in store.model_decisions() if d["action"] == "discard"}
    rows = []
    for mv in store.model_versions():
        m = mv.metrics or {}
        status = str(mv.status.value if hasattr(mv.status, "value") else mv.status)
        rows.append(
            VersionRow(
                mv.name,
                "discarded" if status == "retired" and mv.name in discarded else status,
                mv.parent,
                mv.created_at,
                m.get("evaluation_candidate_macro_ap"),
                m.get("evaluation_baseline_macro_ap"),
                m.get("evaluation_flips"),
                mv.path,
            )
        )
    return rows


def gate(candidate: dict, baseline: dict) -> dict:
    """The gate's verdict from two metric summaries on the same images (per_class AP, macro AP)."""
    if not all(math.isfinite(x or math.nan) for x in (candidate["macro_ap"], baseline["macro_ap"])):
        return {"passed": False, "reasons": ["macro AP is not a number (a broken model?)"]}
    macro_drop = baseline["macro_ap"] - candidate["macro_ap"]
    drops = {
        c: round(baseline["per_class"][c]["ap"] - v["ap"], 6)
        for c, v in candidate["per_class"].items()
        if c in baseline["per_class"]
        and v["ap"] is not None
        and baseline["per_class"][c]["ap"] is not None
    }
    reasons = []
    if macro_drop > MACRO_AP_DROP:
        reasons.append(f"macro AP falls by {100 * macro_drop:.2f} points (limit 0.5)")
    reasons += [
        f"{c} AP falls by {100 * d:.2f} points (limit 2)"
        for c, d in drops.items()
        if d > CLASS_AP_DROP
    ]
    return {
        "passed": not reasons,
        "reasons": reasons,
        "macro_ap": {"candidate": candidate["macro_ap"], "baseline": baseline["macro_ap"]},
        "class_ap_drop": drops,
    }


def _comparison_with_active(store: LabelStore, name: str) -> dict | None:
    """The candidate's evaluation-set comparison against the *current* active version."""
    active = store.active_model()
    if active is None or active.name == name:
        return None
    mv = store.model_version(name)
    card = read_card(mv.path)
    comparison = card.metrics.get("comparison", {})
    if comparison.get("baseline") == active.name and "baseline" in comparison.get("evaluation", {}):
        return comparison["evaluation"]
    # Compared with another version when trained: compare again, on the same frozen images.
    from inspector.loop.evaluate import compare

    sid = card.training.get("snapshot_id")
    if sid is None or card.training.get("workspace_db") != str(store.path):
        sid = store.latest_snapshot_id()  # an imported version: this workspace's evaluation set
    if sid is None:
        raise ModelError(
            f"{name}: no evaluation set in this workspace yet (fine-tune once to choose it)"
        )
    items = store.data_snapshot(int(sid)).role("eval")
    return compare(Path(mv.path), Path(active.path), {"evaluation": items})["evaluation"]


def promote(store: LabelStore, name: str, *, user: str, role: str, override: str = "") -> dict:
    """Make ``name`` the active version, behind the regression gate; return the gate's verdict."""
    require(role, "promote a model")
    mv = store.model_version(name)
    if mv.status == "active":
        raise InspectorError(f"{name} is already the active version")
    check_model_dir(mv.path)
    ev = _comparison_with_active(store, name)
    if ev and "baseline" in ev and "candidate" in ev:
        verdict = gate(ev["candidate"], ev["baseline"])
    else:  # no active version, or no class in common with it (a new product line)
        verdict = {"passed": True, "reasons": [], "note": "nothing to compare with"}
    if not verdict["passed"]:
        if not override.strip():
            raise GateRefused(
                f"promotion of {name} refused: {'; '.join(verdict['reasons'])}; a supervisor "
                "may override with --override 'written reason'"
            )
        verdict["overridden"] = True
    store.decide_model(
        name, "promote", "active", user=user, role=role, reason=override.strip(), gate=verdict
    )
    return verdict


def rollback(
    store: LabelStore, name: str | None = None, *, user: str, role: str, reason: str = ""
) -> str:
    """Make an earlier version active again (default: the one active before the current)."""
    require(role, "roll back the model")
    active = store.active_model()
    if name is None:
        previous = [
            d["previous_active"]
            for d in store.model_decisions()
            if d["action"] in ("promote", "rollback") and d["previous_active"]
        ]
        if not previous:
            raise InspectorError("no earlier active version to roll back to; name one")
        name = previous[-1]
    mv = store.model_version(name)
    if active is not None and active.name == name:
        raise InspectorError(f"{name} is already the active version")
    check_model_dir(mv.path)
    store.decide_model(name, "rollback", "active", user=user, role=role, reason=reason, gate=None)
    return name


def discard(store: LabelStore, name: str, *, user: str, role: str, reason: str = "") -> None:
    """Retire a candidate that will not be promoted (its files stay until deleted by hand)."""
    require(role, "discard a model")
    mv = store.model_version(name)
    if mv.status == "active":
        raise InspectorError(f"{name} is the active version: roll back to another one first")
    store.decide_model(name, "discard", "retired", user=user, role=role, reason=reason, gate=None)


def import_version(store: LabelStore, source: Path, *, user: str, role: str) -> str:
    """Copy a model version folder (e.g. trained on a cluster) into the workspace as a candidate."""
    require(role, "import a model")
    card = check_model_dir(source, need_weights=True)
    if any(m.name == card.version for m in store.model_versions()):
        raise InspectorError(f"model version {card.version!r} is in the workspace already")
    final = store.workspace / "models" / card.version
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        for f in Path(source).iterdir():
            if f.is_file():
                shutil.copy2(f, staging / f.name)
        check_model_dir(staging, need_weights=True)
        replace_dir(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    m = card.metrics.get("comparison", {})
    metrics = {"imported_from": str(source), "data_hash": card.data_hash}
    if "evaluation" in m and "candidate" in m["evaluation"]:
        metrics["evaluation_candidate_macro_ap"] = m["evaluation"]["candidate"]["macro_ap"]
    store.register_model(
        card.version,
        classes=card.classes,
        thresholds=card.thresholds,
        path=str(final),
        metrics=metrics,
        parent=card.parent,
    )
    store.decide_model(
        card.version, "import", "candidate", user=user, role=role, reason="", gate=None
    )
    return card.version
