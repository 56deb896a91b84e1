"""``inspector explain``: SHAP heatmaps without the GUI, and the checks report.

    inspector explain IMAGE [--class C ...] [--model DIR] --out PNG [--gradcam] [--save-values NPY]
    inspector explain IMAGE --method regions|gradients|gradcam|gradcam++ ...
    inspector explain --report [--method regions|gradients] [--split test] [--data DIR] [--boxes DIR]
    inspector explain --make-background --data DIR [--model DIR]   # store background.npz in DIR

Methods: ``regions`` (the default) = SHAP values over image regions (Owen values, blur masker,
ONNX Runtime; :mod:`inspector.explain.regions`), which points at the defect far more often than
``gradients`` = expected gradients per pixel (torch) on the NEU test images
(benchmarks/bench_explain_methods.py); ``gradcam`` / ``gradcam++`` = Grad-CAM(++) maps (a
second view, not SHAP).
Results are cached in ``<workspace>/explanations`` (``--no-cache`` to skip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inspector.commands.argtypes import fraction, non_negative, percentile, positive_int

METHODS = ("regions", "gradients", "gradcam", "gradcam++")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="per-class SHAP heatmaps of an image, or the checks report")
    p.add_argument("image", nargs="?", metavar="IMAGE", help="image to explain")
    p.add_argument(
        "--class",
        dest="classes",
        action="append",
        metavar="C",
        help="class to show (repeatable; default: all classes)",
    )
    p.add_argument(
        "--model", metavar="DIR", help="model version folder (default: the shipped model)"
    )
    p.add_argument("--out", metavar="PNG", help="where to write the overlay image")
    p.add_argument(
        "--save-values",
        metavar="NPY",
        help="also (or only) write the raw signed maps as float32 .npy at the image's resolution: "
        "(H, W) for one --class, else (classes, H, W) in the model card's order",
    )
    p.add_argument(
        "--opacity", type=fraction, default=0.6, help="heatmap opacity 0..1 (default 0.6)"
    )
    p.add_argument(
        "--clip",
        type=percentile,
        default=99.0,
        metavar="PCT",
        help="colour scale = this percentile of |attribution| (default 99)",
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default=None,
        help="regions: SHAP over image regions (Owen values, ONNX, the default); gradients: "
        "expected gradients per pixel (torch); gradcam / gradcam++: Grad-CAM(++) maps (not SHAP)",
    )
    p.add_argument("--gradcam", action="store_true", help="add a Grad-CAM panel for comparison")
    p.add_argument(
        "--evals", type=positive_int, default=None, help="--method regions: masked images per image"
    )
    p.add_argument("--nsamples", type=positive_int, default=None, help="expected-gradients samples")
    p.add_argument(
        "--smooth",
        type=non_negative,
        default=None,
        metavar="PX",
        help="blur the maps by this sigma (pixels at the model's input size)",
    )
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--cache", metavar="DIR", help="cache folder (default: WORKSPACE/explanations)")
    p.add_argument(
        "--report", action="store_true", help="run the checks over a split and print a table"
    )
    p.add_argument(
        "--split", default="test", help="split of SPLITS.csv for --report (default test)"
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        help="labelled data (class folders + SPLITS.csv); default: the model's training data",
    )
    p.add_argument("--boxes", metavar="DIR", help="NEU-DET VOC XML folder for the box check")
    p.add_argument("--limit", type=positive_int, default=None, help="--report: first N images only")
    p.add_argument(
        "--make-background",
        action="store_true",
        help="draw the background set from --data and store it in the model folder",
    )
    p.add_argument(
        "--per-class",
        type=positive_int,
        default=4,
        help="--make-background: images per class (the shipped model uses 3 to fit 20 MiB)",
    )
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.set_defaults(func=run)


def _cache_dir(args: argparse.Namespace) -> Path:
    if args.cache:
        return Path(args.cache)
    from inspector.paths import explanations_dir

    return explanations_dir(getattr(args, "workspace", None))


def run(args: argparse.Namespace) -> int:
    from inspector.domain import DatasetError
    from inspector.explain import DEFAULT_METHOD, Explainer, ExplainSettings
    from inspector.registry import default_model_dir

    model_dir = Path(args.model) if args.model else default_model_dir()
    knobs = {"nsamples": args.nsamples, "smooth_sigma": args.smooth}
    settings = ExplainSettings(**{k: v for k, v in knobs.items() if v is not None})
    if args.make_background:
        return _make_background(model_dir, args.data, args.per_class)
    method = getattr(args, "method", None) or DEFAULT_METHOD
    if method.startswith("gradcam") and args.report:
        raise DatasetError("--report scores a SHAP method: --method regions or gradients")
    if method == "regions":
        from inspector.explain.regions import RegionExplainer, RegionSettings

        explainer = RegionExplainer(
            model_dir,
            settings=RegionSettings(**({"max_evals": args.evals} if args.evals else {})),
            cache=None if args.no_cache else _cache_dir(args),
            device=args.device,
            threads=args.threads,
        )
    else:
        explainer = Explainer(
            model_dir,
            settings=settings,
            cache=None if args.no_cache else _cache_dir(args),
            data_dir=args.data,
            device=args.device,
            threads=args.threads,
        )
    if args.report:
        return _report(explainer, args)
    if not args.image:
        raise DatasetError("give an IMAGE to explain, or --report")
    if not args.out and not args.save_values:
        raise DatasetError(
            "--out PNG (the heatmap) or --save-values NPY (the raw maps) is required"
        )
    for target, option, what in (
        (args.out, "--out", "PNG"),
        (args.save_values, "--save-values", "NPY"),
    ):
        if target and Path(target).is_dir():
            from inspector.domain import OutputError

            raise OutputError(f"{target}: is a folder; {option} names the {what} file to write")
    if args.save_values and args.classes and len(args.classes) > 1:
        raise DatasetError("--save-values takes one --class (an (H, W) map) or none (all classes)")
    for c in args.classes or ():  # before the work, not after it
        if c not in explainer.classes:
            from inspector.domain import ModelError

            raise ModelError(f"unknown class {c!r}; this model knows {explainer.classes}")
    if method.startswith("gradcam"):
        return _gradcam_image(explainer, args, plus_plus=method == "gradcam++")
    return _image(explainer, args)


def _make_background(model_dir: Path, data: str | None, per_class: int = 4) -> int:
    from inspector.domain import DatasetError
    from inspector.explain.background import BACKGROUND_FILE, build_background, save_background
    from inspector.registry import read_card

    if not data:
        raise DatasetError("--make-background needs --data DIR (the model's training data)")
    bg = build_background(read_card(model_dir), data, per_class=per_class)
    path = save_background(bg, model_dir / BACKGROUND_FILE)
    print(f"wrote {path}: {bg.source}")
    return 0


def _image(explainer, args: argparse.Namespace) -> int:
    from inspector import jobs
    from inspector.explain import edge_attention, edge_flag, read_image, render_overlay
    from inspector.explain.render import hstack_panels

    expl = jobs.run(explainer.explain(args.image, use_cache=not args.no_cache))
    gray, _ = read_image(args.image)
    classes = args.classes or list(explainer.classes)
    origin = "cache" if expl.from_cache else f"{explainer.device}"
    method = getattr(explainer, "method", "SHAP · expected gradients")
    unit = "masked images" if "regions" in method else "samples"
    print(
        f"{method}; model {expl.model_version}; {expl.seconds * 1000:.0f} ms ({origin}); "
        f"background: {expl.background_source}",
        file=sys.stderr,
    )
    if args.save_values:
        _save_values(args.save_values, expl, args.classes)
    if not args.out:
        return 0
    panels = []
    width = max(len(c) for c in classes)
    for c in classes:
        k = expl.index(c)
        amap = expl.maps[k]
        flag = "  EDGES: model looks at the edges" if edge_flag(amap) else ""
        # Additivity is exact for regions; expected gradients' estimate misses by some.
        print(
            f"{c:<{width}}  p={expl.probabilities[k]:.3f}  logit {expl.logits[k]:+.2f} ≈ base "
            f"{expl.base_values[k]:+.2f} + attributions {amap.sum():+.2f} "
            f"({expl.samples} {unit})  edge share {edge_attention(amap):.2f}{flag}"
        )
        title = f"{c} p={expl.probabilities[k]:.2f}"
        panels.append(
            render_overlay(gray, amap, opacity=args.opacity, clip_percentile=args.clip, title=title)
        )
        if args.gradcam:
            panels.append(
                render_overlay(
                    gray,
                    _gradcam_map(explainer, gray, c),
                    opacity=args.opacity,
                    clip_percentile=args.clip,
                    title=f"{c} Grad-CAM",
                )
            )
    _write_png(args.out, hstack_panels(panels))
    return 0


def _write_png(out: str, rgb) -> None:
    from inspector.explain import save_png

    existed = Path(out).exists()
    try:
        path = save_png(out, rgb)
    except OSError as exc:
        from inspector.domain import OutputError

        if not existed:  # a full disk leaves half a PNG that looks like a result
            Path(out).unlink(missing_ok=True)
        raise OutputError(f"{out}: cannot write the heatmap ({exc.strerror or exc})") from None
    print(f"wrote {path}", file=sys.stderr)


def _gradcam_image(explainer, args: argparse.Namespace, plus_plus: bool = False) -> int:
    """``--method gradcam[++]``: Grad-CAM(++) maps (where the last feature map responds; not SHAP)."""
    import numpy as np

    from inspector.explain import edge_attention, read_image, render_overlay
    from inspector.explain.render import hstack_panels
    from inspector.explain.settings import Explanation

    gray, sha = read_image(args.image)
    names = list(explainer.classes)
    name = "Grad-CAM++" if plus_plus else "Grad-CAM"
    maps = np.stack([_gradcam_map(explainer, gray, c, plus_plus) for c in names])
    maps = maps.astype(np.float32)
    print(f"{name} (not SHAP: no additivity, >= 0)", file=sys.stderr)
    if args.save_values:
        expl = Explanation(
            tuple(names),
            maps,
            maps,
            np.zeros(len(names)),
            np.zeros(len(names)),
            explainer.card.version,
            sha,
            "",
            "",
        )
        _save_values(args.save_values, expl, args.classes)
    if not args.out:
        return 0
    panels = []
    for c in args.classes or names:
        amap = maps[names.index(c)]
        print(f"{c}  {name} edge share {edge_attention(amap):.2f}")
        panels.append(
            render_overlay(
                gray, amap, opacity=args.opacity, clip_percentile=args.clip, title=f"{c} {name}"
            )
        )
    _write_png(args.out, hstack_panels(panels))
    return 0


def _save_values(target: str, expl, classes: list[str] | None) -> None:
    """The signed maps, float32, at the image's resolution, written atomically."""
    import io

    import numpy as np

    from inspector import atomic
    from inspector.domain import OutputError

    maps = expl.maps[expl.index(classes[0])] if classes else expl.maps
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(maps, dtype=np.float32))
    try:
        path = atomic.write_bytes(target, buf.getvalue())
    except OSError as exc:
        raise OutputError(f"{target}: cannot write the maps ({exc.strerror or exc})") from None
    shape = "×".join(str(n) for n in maps.shape)
    print(f"wrote {path} (float32 {shape})", file=sys.stderr)


def _gradcam_map(explainer, gray, cls: str, plus_plus: bool = False):
    import cv2

    from inspector.explain.gradcam import gradcam
    from inspector.explain.report import _gradcam_model

    x = explainer.card.preprocessing.apply(gray)
    model, device = _gradcam_model(explainer)
    cam = gradcam(model, x, explainer.classes.index(cls), device, plus_plus=plus_plus)
    return cv2.resize(cam, (gray.shape[1], gray.shape[0]))


def _report(explainer, args: argparse.Namespace) -> int:
    from inspector import jobs
    from inspector.domain import DatasetError, Progress
    from inspector.explain.background import training_data_dir
    from inspector.explain.report import explain_report, format_report

    data = Path(args.data) if args.data else training_data_dir(explainer.card, explainer.model_dir)
    if data is None:
        raise DatasetError("--report needs --data DIR (class folders + SPLITS.csv)")
    boxes = Path(args.boxes) if args.boxes else data.parent / "neu-det-annotations"
    if not boxes.is_dir():
        print(
            f"no boxes at {boxes}: the box columns stay empty (give --boxes DIR)", file=sys.stderr
        )
        boxes = None
    shown = {-1}

    def progress(p: Progress) -> None:  # one line per 10 % on stderr
        if (pct := int(100 * p.fraction) // 10 * 10) not in shown:
            print(f"  {p.done}/{p.total}", file=sys.stderr)
            shown.add(pct)

    job = explain_report(explainer, data, boxes, split=args.split, limit=args.limit)
    print(format_report(jobs.run(job, on_progress=progress)))
    return 0
