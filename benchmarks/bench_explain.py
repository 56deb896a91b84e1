"""Benchmark: all-class explanation of one image, cached read, vs shap.GradientExplainer.

    .venv/bin/python benchmarks/bench_explain.py [--model DIR] [--data DIR] [--image IMG] [--threads 2]

Without --model it uses models/default, or (when that does not exist yet) an *untrained*
mobilenetv3_small_100 at 200 px as a stand-in. The quality column is the mean (min)
per-class Pearson correlation with the same estimator at 256 samples (another seed, same
background): how close a map is to the converged one. Progressive jobs are timed to their first
look and to their final map.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from inspector import jobs

REPO = Path(__file__).resolve().parents[1]
NEU = REPO.parent / "shared" / "data" / "neu-cls"


def _untrained_model(out: Path) -> Path:
    import torch

    from inspector.domain import NEU_CLASSES
    from inspector.imageio import PreprocessSpec
    from inspector.registry import ModelCard, write_card
    from inspector.runtime.export import save_weights
    from inspector.runtime.torch_model import build_model

    torch.manual_seed(0)
    model = build_model("mobilenetv3_small_100", len(NEU_CLASSES), 1).eval()
    out.mkdir(parents=True, exist_ok=True)
    save_weights(model, out / "weights.safetensors")
    write_card(
        out,
        ModelCard(
            "untrained-mnv3s-200",
            "mobilenetv3_small_100",
            NEU_CLASSES,
            PreprocessSpec(size=200),
            tuple(0.5 for _ in NEU_CLASSES),
        ),
    )
    return out


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _corr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    cs = [float(np.corrcoef(x.ravel(), y.ravel())[0, 1]) for x, y in zip(a, b, strict=True)]
    return float(np.mean(cs)), float(np.min(cs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path)
    ap.add_argument("--data", type=Path, default=NEU if NEU.is_dir() else None)
    ap.add_argument("--image", type=Path)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import shap
    import torch

    from inspector.explain import Explainer, ExplainSettings
    from inspector.imageio import load_image

    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="bench-explain-"))
    model_dir = args.model or (REPO / "models" / "default")
    note = ""
    if not (model_dir / "card.json").is_file():
        model_dir, note = _untrained_model(tmp / "model"), " (untrained: models/default missing)"
    image = args.image or (
        sorted((args.data / "scratches").glob("*.bmp"))[0] if args.data else None
    )
    if image is None:
        raise SystemExit("give --image (no NEU data found)")
    gray = load_image(image)

    def explainer(settings: ExplainSettings, cache: Path | None = None) -> Explainer:
        return Explainer(model_dir, settings=settings, data_dir=args.data, cache=cache)

    fast = explainer(ExplainSettings(), cache=tmp / "cache")
    jobs.run(fast.explain(image))  # warm-up (model load, background logits) and fills the cache
    card, bg = fast.card, fast.background
    print(
        f"model {card.version} ({card.architecture}, {card.preprocessing.size} px){note}; "
        f"image {image.name}; torch threads {torch.get_num_threads()}; "
        f"load avg before {os.getloadavg()[0]:.1f} (machine shared with training)"
    )
    print(f"background: {bg.source if bg else 'fallback'}")

    x = card.preprocessing.apply(gray)
    bgx = bg.tensor(card) if bg is not None else None
    model = fast._torch_model()
    ref_explainer = shap.GradientExplainer(model, torch.from_numpy(bgx), batch_size=50)

    def shap_maps(n: int, seed: int = 0) -> np.ndarray:
        sv = ref_explainer.shap_values(torch.from_numpy(x[None]), nsamples=n, rseed=seed)
        return np.moveaxis(sv[0].sum(0), -1, 0)

    t_shap50, shap50 = _median_time(lambda: shap_maps(50), 2)
    print(f"  shap@50: {t_shap50 * 1000:.0f} ms", flush=True)
    # The converged map to compare with: the same estimator at 256 samples with another seed.
    ref = jobs.run(
        explainer(ExplainSettings(nsamples=256, seed=123)).explain(image, use_cache=False)
    )
    ref256 = ref.model_maps

    def quality(maps: np.ndarray) -> str:
        mean_r, min_r = _corr(maps, ref256)
        return f"{mean_r:.2f} ({min_r:.2f})"

    default = explainer(ExplainSettings())
    jobs.run(default.explain(image, use_cache=False))

    def progressive() -> tuple[float, float, object, object]:
        t0, seen = time.perf_counter(), []

        def first_look(look: object) -> None:
            if not seen:
                seen.append((time.perf_counter() - t0, look))

        final = jobs.run(default.explain(image, use_cache=False), on_partial=first_look)
        first, look = seen[0] if seen else (None, None)
        return first, time.perf_counter() - t0, look, final

    runs = [progressive() for _ in range(args.repeat)]
    t_first = statistics.median(r[0] for r in runs)
    t_final = statistics.median(r[1] for r in runs)
    s0 = default.settings
    rows = [
        (
            f"first look of the default job ({s0.first_look} samples)",
            t_first,
            quality(runs[-1][2].model_maps),
        ),
        (
            f"default job, final map ({s0.nsamples} samples)",
            t_final,
            quality(runs[-1][3].model_maps),
        ),
    ]
    print(
        f"  default: first look {t_first * 1000:.0f} ms, final {t_final * 1000:.0f} ms", flush=True
    )
    for label, s, rep in [
        (
            "16 samples in one job",
            ExplainSettings(nsamples=16, first_look=16, batch_size=16),
            args.repeat,
        ),
        ("64 samples", ExplainSettings(nsamples=64, first_look=64, batch_size=16), 2),
        (
            "50 samples, shap's draws",
            ExplainSettings(nsamples=50, sampling="shap", first_look=50, batch_size=25),
            2,
        ),
    ]:
        e = explainer(s)
        jobs.run(e.explain(image, use_cache=False))
        t, expl = _median_time(lambda e=e: jobs.run(e.explain(image, use_cache=False)), rep)
        q = quality(expl.model_maps)
        if s.sampling == "shap":
            q += f"; vs shap@50 on the same draws r={_corr(expl.model_maps, shap50)[0]:.4f}"
        rows.append((label, t, q))
        print(f"  {label}: {t * 1000:.0f} ms", flush=True)
    t_cache, hit = _median_time(lambda: fast.cached(image), 20)
    assert hit is not None and hit.from_cache
    rows.append(("cached (read index + float16 file + resize)", t_cache, "= final map"))
    rows.append(("shap.GradientExplainer, 50 samples", t_shap50, quality(shap50)))

    print(
        f"\n| all {len(card.classes)} classes, one image | median time | "
        "corr. with the 256-sample map (other seed): mean (min) over classes |"
    )
    print("|---|---|---|")
    for label, t, q in rows:
        print(f"| {label} | {t * 1000:.0f} ms | {q} |")
    print(f"\nload avg after {os.getloadavg()[0]:.1f}; targets: ≤ 500 ms, cached ≤ 30 ms")


if __name__ == "__main__":
    main()
