"""``inspector explain --report``: the checks over a labelled split, per class and overall.

:func:`explain_report` is a job (:mod:`inspector.jobs`): it yields Progress per image, takes a
``cancel`` callable and returns the :class:`Report`::

    rep = jobs.run(explain_report(explainer, "neu-cls", "neu-det-annotations"))
    print(format_report(rep))

For each image of the split: the map of its labelled class (the folder name) by the explainer's
method (region SHAP or expected gradients), issue 12's goal figures (pointing game, in-box share),
its edge attention (outside the class's boxes where they exist: a defect at the border is what
the map should show), its mass-in-box ratio against the NEU-DET boxes of that class, the same ratio
for Grad-CAM, and the deletion test. Medians, because a few images with a tiny box produce huge
ratios that would dominate a mean.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inspector import jobs
from inspector.domain import DatasetError, Progress
from inspector.explain.boxes import box_mask, det_xml_for, read_voc
from inspector.explain.checks import (
    EDGE_FLAG_THRESHOLD,
    box_agreement,
    deletion_test,
    edge_attention,
)
from inspector.explain.explainer import Explainer
from inspector.explain.goals import in_box_share, pointing_hit
from inspector.explain.gradcam import gradcam
from inspector.explain.regions import RegionExplainer
from inspector.imageio import load_image
from inspector.jobs import CancelFn, Job, check, never
from inspector.metrics import sigmoid


@dataclass(frozen=True, slots=True)
class ImageCheck:
    path: str
    cls: str
    edge: float
    ratio: float  # expected gradients mass-in-box / area share (nan without boxes)
    gradcam_ratio: float
    gradcam_edge: float
    area_share: float  # of the boxes; 1/area_share is the best ratio any map could reach
    deletion_auc: float
    random_auc: float
    pointing: float = float("nan")  # 1.0 when the blurred maximum is in a grown box (issue 12)
    in_box: float = float("nan")  # share of the positive attribution inside the boxes


@dataclass
class Report:
    model_version: str
    background_source: str
    split: str
    method: str = "SHAP · expected gradients"
    rows: list[ImageCheck] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def split_files(data_dir: Path, split: str) -> list[tuple[Path, str]]:
    """(image, labelled class) of one split of SPLITS.csv (the class is the first path part)."""
    splits = data_dir / "SPLITS.csv"
    if not splits.is_file():
        raise DatasetError(f"{data_dir}: no SPLITS.csv (needed to pick the {split!r} split)")
    with splits.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("split") == split]
    if not rows:
        raise DatasetError(f"{splits}: no rows with split {split!r}")
    return [(data_dir / r["path"], Path(r["path"]).parts[0]) for r in rows]


def explain_report(
    explainer: Explainer | RegionExplainer,
    data_dir: str | os.PathLike[str],
    boxes_dir: str | os.PathLike[str] | None,
    split: str = "test",
    limit: int | None = None,
    cancel: CancelFn = never,
) -> Job[Report]:
    """Run the checks image by image (yielding progress); return the :class:`Report`.

    ``cancel`` is checked before each image; a cancelled report raises
    :class:`~inspector.jobs.Cancelled`.
    """
    files = split_files(Path(data_dir), split)
    if limit:
        files = _round_robin(files)[:limit]  # every class represented, not just the first folder
    boxes = Path(boxes_dir) if boxes_dir else None
    rep = Report(explainer.card.version, "", split, getattr(explainer, "method", Report.method))
    model, device = _gradcam_model(explainer)
    spec = explainer.card.preprocessing
    for i, (path, cls) in enumerate(files):
        check(cancel)
        if cls not in explainer.classes:
            rep.skipped.append(f"{path}: class {cls!r} unknown to the model")
            continue
        c = explainer.classes.index(cls)
        expl = jobs.run(explainer.explain(path, classes=[cls], use_cache=False))
        assert expl is not None  # not cancellable from here
        rep.background_source = expl.background_source
        amap = expl.maps[0]
        x = spec.apply(load_image(path))
        cam = cv2.resize(gradcam(model, x, c, device), (amap.shape[1], amap.shape[0]))
        ratio = gc_ratio = area = hit = share = float("nan")
        mask = None  # the class's boxes: attention on a defect at the border is not edge attention
        xml = det_xml_for(path, boxes) if boxes else None
        if xml is not None:
            size, bxs = read_voc(xml)
            mask = box_mask(amap.shape, [b for b in bxs if b.name == cls], size)
            if mask.any():
                ratio = box_agreement(amap, mask).ratio
                area = float(mask.mean())
                gc_ratio = box_agreement(cam, mask).ratio
                mine = [b for b in bxs if b.name == cls]
                hit = float(pointing_hit(amap, mine, size))
                share = in_box_share(amap, mine, size)
        dele = deletion_test(
            lambda b, c=c: sigmoid(explainer.logits(b)[:, c]), x, expl.model_maps[0]
        )
        rep.rows.append(
            ImageCheck(
                str(path),
                cls,
                edge_attention(amap, inside=mask),
                ratio,
                gc_ratio,
                edge_attention(cam, inside=mask),
                area,
                dele.auc_attribution,
                dele.auc_random,
                hit,
                share,
            )
        )
        yield Progress(i + 1, len(files), path.name)
    return rep


def _gradcam_model(explainer):
    """(torch model, device) for the Grad-CAM column: the explainer's own, or loaded from the
    version's weights when the explainer runs on ONNX (regions)."""
    if hasattr(explainer, "_torch_model"):
        return explainer._torch_model(), explainer.device
    if getattr(explainer, "_gradcam_torch", None) is None:
        from inspector.runtime.torch_model import load_torch_model

        explainer._gradcam_torch = load_torch_model(explainer.model_dir)[0]
    return explainer._gradcam_torch, "cpu"


def _round_robin(files: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    by_class: dict[str, list[tuple[Path, str]]] = {}
    for f in files:
        by_class.setdefault(f[1], []).append(f)
    out = []
    for i in range(max(len(v) for v in by_class.values())):
        out.extend(v[i] for v in by_class.values() if i < len(v))
    return out


def _summary(rows: list[ImageCheck]) -> dict[str, float]:
    def med(vals: list[float]) -> float:
        v = [x for x in vals if np.isfinite(x)]
        return float(np.median(v)) if v else float("nan")

    return {
        "n": len(rows),
        "ratio": med([r.ratio for r in rows]),
        "gradcam_ratio": med([r.gradcam_ratio for r in rows]),
        "ceiling": med([1.0 / r.area_share for r in rows]),
        "ratio_ge3": float(np.mean([r.ratio >= 3 for r in rows if np.isfinite(r.ratio)] or [0])),
        "edge": med([r.edge for r in rows]),
        "edge_flagged": sum(r.edge >= EDGE_FLAG_THRESHOLD for r in rows),
        "gradcam_edge": med([r.gradcam_edge for r in rows]),
        "del_auc": med([r.deletion_auc for r in rows]),
        "rand_auc": med([r.random_auc for r in rows]),
        "del_wins": float(np.mean([r.deletion_auc < r.random_auc for r in rows] or [0])),
        "pointing": float(
            np.mean([r.pointing for r in rows if np.isfinite(r.pointing)] or [np.nan])
        ),
        "in_box": med([r.in_box for r in rows]),
    }


def summarise(rep: Report) -> dict[str, dict[str, float]]:
    """Per class and "all": medians of the checks (see :func:`format_report` for the columns)."""
    out = {
        c: _summary([r for r in rep.rows if r.cls == c]) for c in sorted({r.cls for r in rep.rows})
    }
    out["all"] = _summary(rep.rows)
    return out


def format_report(rep: Report) -> str:
    """A plain-text table: one line per class and one for the whole split."""
    head = (
        f"{'class':<16}{'n':>4}  {'point':>5} {'in-box':>6}  {'SHAP box×':>9} {'≥3×':>5} {'GradCAM box×':>12} {'ceiling':>7}  "
        f"{'edge':>5} {'flag':>4} {'GC edge':>7}  {'del AUC':>7} {'rand AUC':>8} {'del<rand':>8}"
    )
    lines = [
        f"model {rep.model_version}, split {rep.split}, method: {rep.method}, "
        f"background: {rep.background_source}",
        head,
        "-" * len(head),
    ]
    summary = summarise(rep)
    for name, s in summary.items():
        if name == "all":
            lines.append("-" * len(head))
        lines.append(
            f"{name:<16}{s['n']:>4}  {s['pointing']:>5.2f} {s['in_box']:>6.2f}  {s['ratio']:>9.2f} {s['ratio_ge3']:>5.0%} "
            f"{s['gradcam_ratio']:>12.2f} {s['ceiling']:>7.2f}  {s['edge']:>5.2f} {s['edge_flagged']:>4d} "
            f"{s['gradcam_edge']:>7.2f}  {s['del_auc']:>7.3f} {s['rand_auc']:>8.3f} "
            f"{s['del_wins']:>8.0%}"
        )
    lines.append(
        "point = pointing game (share of images whose map maximum, after a 9 px blur, lies in a "
        "box of the class grown by 15 px; goal ≥ 0.95); in-box = median share of the positive "
        "attribution inside the boxes (goal ≥ 0.60); edge goal: below 0.36 (uniform), none flagged."
    )
    lines.append(
        "box× = median share of positive attribution inside the labelled class's boxes / the boxes' "
        "share of the image (goal ≥ 3; ceiling = median of 1/box share, the best any map can "
        "reach); edge = median share in the outer 10% band outside the class's boxes (flag ≥ "
        f"{EDGE_FLAG_THRESHOLD}); del/rand AUC = mean class probability while deleting 0–50% of "
        "pixels by attribution / at random (lower = map finds what matters)."
    )
    boxed = [r for r in rep.rows if np.isfinite(r.ratio)]
    if boxed:
        room = sum(1.0 / r.area_share >= 3 for r in boxed)
        lines.append(
            f"The boxes leave room for 3× in {room} of {len(boxed)} images (the others cover over a "
            f"third of theirs); a median of 3× needs {len(boxed) // 2 + 1} images at 3× or more."
        )
    if rep.skipped:
        lines.append(
            f"skipped {len(rep.skipped)}: {rep.skipped[0]}" + (" …" if len(rep.skipped) > 1 else "")
        )
    return "\n".join(lines)
