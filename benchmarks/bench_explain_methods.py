"""Benchmark: which heatmap points at the defect, and how fast (issue 12's comparison table).

    python benchmarks/bench_explain_methods.py [--per-class 6] [--threads 2] [--no-shap]

On the NEU test split (the first ``--per-class`` images of each class in SPLITS.csv order) and the
labelled class's NEU-DET boxes, for each method: pointing game (blurred maximum inside a box grown
by 15 px), in-box share of the positive attribution (median), edge attention (median; uniform is
0.36), and seconds per image for the labelled class alone and for all classes. Methods run
interleaved image by image, so a busy machine slows them alike; the load average is printed.

* ``gradients``: expected gradients, 30 samples (torch; the previous default)
* ``regions-N``: inspector.explain.regions, Owen values over a halving partition, N masked images
  (ONNX Runtime; all classes from the same evaluations, so one class costs the same as all)
* ``gradcam`` / ``gradcam++``: Grad-CAM(++) on the last feature map (torch; not SHAP)
* ``shap-partition``: shap.PartitionExplainer, Image("blur(16,16)") masker, 300 evaluations, over
  the same ONNX session (the yardstick; one class per call)
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

from inspector import jobs

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def first_per_class(data: Path, per_class: int) -> list[tuple[Path, str]]:
    out: dict[str, list[Path]] = defaultdict(list)
    with (data / "SPLITS.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            cls = Path(r["path"]).parts[0]
            if r["split"] == "test" and len(out[cls]) < per_class:
                out[cls].append(data / r["path"])
    return [(p, c) for c in sorted(out) for p in out[c]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "models" / "default"))
    ap.add_argument("--data", default=str(SHARED / "neu-cls"))
    ap.add_argument("--boxes", default=str(SHARED / "neu-det-annotations"))
    ap.add_argument("--per-class", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budgets", default="100,200,300", help="region budgets (masked images)")
    ap.add_argument("--no-shap", action="store_true", help="skip shap.PartitionExplainer")
    ap.add_argument("--no-torch", action="store_true", help="skip gradients and Grad-CAM")
    args = ap.parse_args()

    from inspector.explain.boxes import det_xml_for, read_voc
    from inspector.explain.checks import edge_attention
    from inspector.explain.goals import in_box_share, pointing_hit
    from inspector.explain.regions import RegionExplainer, RegionSettings
    from inspector.explain.resample import resize_maps

    files = first_per_class(Path(args.data), args.per_class)
    tmp = tempfile.TemporaryDirectory()
    regions = {
        f"regions-{n}": RegionExplainer(
            args.model,
            settings=RegionSettings(max_evals=int(n)),
            threads=args.threads,
            cache=Path(tmp.name) / n,
        )
        for n in args.budgets.split(",")
    }
    ort_session = next(iter(regions.values()))
    ort_session.prepare()
    classes = ort_session.classes
    spec = ort_session.card.preprocessing

    methods: dict[str, object] = {}
    if not args.no_torch:
        import torch

        from inspector.explain import Explainer
        from inspector.explain.gradcam import gradcam

        torch.set_num_threads(args.threads)
        eg = Explainer(args.model, threads=args.threads)
        eg.prepare()

        def run_eg(gray, cls):
            t = time.perf_counter()
            one = jobs.run(eg.explain(gray, classes=[cls], use_cache=False)).maps[0]
            t1 = time.perf_counter() - t
            t = time.perf_counter()
            jobs.run(eg.explain(gray, use_cache=False))
            return one, t1, time.perf_counter() - t

        def run_gc(gray, cls):
            t = time.perf_counter()
            x = spec.apply(gray)
            cam = gradcam(eg._torch_model(), x, classes.index(cls), eg.device)
            cam = cv2.resize(cam, (gray.shape[1], gray.shape[0]))
            return cam, time.perf_counter() - t, float("nan")

        def run_gcpp(gray, cls):
            t = time.perf_counter()
            x = spec.apply(gray)
            cam = gradcam(eg._torch_model(), x, classes.index(cls), eg.device, plus_plus=True)
            cam = cv2.resize(cam, (gray.shape[1], gray.shape[0]))
            return cam, time.perf_counter() - t, float("nan")

        methods["gradients (EG, 30 samples)"] = run_eg
        methods["gradcam (not SHAP)"] = run_gc
        methods["gradcam++ (not SHAP)"] = run_gcpp

    def region_runner(ex):
        def run(gray, cls):
            t = time.perf_counter()
            firsts: list[float] = []
            e = jobs.run(
                ex.explain(gray, use_cache=True),
                on_partial=lambda _: firsts.append(time.perf_counter() - t),
            )
            dt = time.perf_counter() - t
            assert not e.from_cache
            run.first_looks.append(firsts[0] if firsts else dt)
            t = time.perf_counter()  # what the window pays when the class changes: a cache hit
            hit = jobs.run(ex.explain(gray))
            run.cached.append(time.perf_counter() - t)
            assert hit.from_cache
            return e.map(cls), dt, dt

        run.first_looks = []
        run.cached = []
        return run

    for name, ex in regions.items():
        methods[name] = region_runner(ex)

    if not args.no_shap:
        import shap

        s = spec.size

        def f(hwc):  # shap's masker hands (N, s, s, 1) images
            b = np.ascontiguousarray(np.transpose(hwc, (0, 3, 1, 2)), np.float32)
            return ort_session.logits(b)

        masker = shap.maskers.Image("blur(16,16)", (s, s, spec.channels))
        px = shap.PartitionExplainer(f, masker, output_names=list(classes))

        def run_shap(gray, cls):
            x = np.transpose(spec.apply(gray), (1, 2, 0))[None]
            t = time.perf_counter()
            sv = px(x, max_evals=300, batch_size=50, outputs=[classes.index(cls)], silent=True)
            dt = time.perf_counter() - t
            vals = np.asarray(sv.values)[0, :, :, :, 0].sum(-1)
            return resize_maps(vals[None], gray.shape)[0], dt, float("nan")

        methods["shap.PartitionExplainer 300"] = run_shap

    rows: dict[str, list[tuple[str, bool, float, float, float, float]]] = defaultdict(list)
    from inspector.imageio import load_image

    for i, (path, cls) in enumerate(files):
        gray = load_image(path)
        xml = det_xml_for(path, Path(args.boxes))
        size, boxes = read_voc(xml) if xml else ((gray.shape[1], gray.shape[0]), [])
        boxes = [b for b in boxes if b.name == cls]
        for name, fn in methods.items():
            amap, t1, tall = fn(gray, cls)
            if not boxes:
                continue
            rows[name].append(
                (
                    cls,
                    pointing_hit(amap, boxes, size),
                    in_box_share(amap, boxes, size),
                    edge_attention(amap),
                    t1,
                    tall,
                )
            )
        print(f"  {i + 1}/{len(files)} {path.name}", flush=True)

    def med(v):
        v = [x for x in v if np.isfinite(x)]
        return statistics.median(v) if v else float("nan")

    load = os.getloadavg()
    print(
        f"\n{len(files)} test images, threads={args.threads}, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"| {'method':<30} | pointing | in-box share (median) | edge (median) | "
        "s/img one class | s/img all classes | first look s | cached ms |"
    )
    print("|" + "---|" * 8)
    for name, r in rows.items():
        fl = getattr(methods[name], "first_looks", [])
        cached = getattr(methods[name], "cached", [])
        print(
            f"| {name:<30} | {np.mean([x[1] for x in r]):.2f} | {med([x[2] for x in r]):.2f} | "
            f"{med([x[3] for x in r]):.2f} | {med([x[4] for x in r]):.2f} | "
            f"{med([x[5] for x in r]):.2f} | {med(fl) if fl else float('nan'):.2f} | "
            f"{1000 * med(cached) if cached else float('nan'):.1f} |"
        )
    print("\nper class: pointing / in-box share median / edge median")
    cls_names = sorted({x[0] for r in rows.values() for x in r})
    print(f"| {'method':<30} | " + " | ".join(cls_names) + " |")
    print("|" + "---|" * (len(cls_names) + 1))
    for name, r in rows.items():
        cells = []
        for c in cls_names:
            rc = [x for x in r if x[0] == c]
            cells.append(
                f"{np.mean([x[1] for x in rc]):.2f} / {med([x[2] for x in rc]):.2f} / "
                f"{med([x[3] for x in rc]):.2f}"
            )
        print(f"| {name:<30} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
