"""``inspector bench``: inference speed of a model version, every figure measured in one run.

Prints the execution provider that really ran (and why another was not used), then a markdown
table: decode+preprocess; ORT batch-1 p50/p95 and end-to-end batch-1 p50 of the session
``predict`` and the window open (one intra-op thread, batch axis fixed), and of a plain session
for reference; ORT batch-32 throughput; folder scoring through the parallel pipeline; torch
eager batch-1 p50 of the same weights at equal thread counts and the ORT speed-ups; FLOPs per
image and achieved GFLOP/s. Ratios are meaningful; absolute times only with the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from inspector.commands.argtypes import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure inference speed of a model version")
    p.add_argument(
        "--model", metavar="DIR", help="model version folder (default: the shipped model)"
    )
    p.add_argument("--images", nargs="*", type=Path, help="sample images (default: generated)")
    p.add_argument("--repeats", type=positive_int, default=300, help="batch-1 timing repeats")
    p.add_argument(
        "--threads", type=positive_int, default=None, help="CPU threads for ORT and torch"
    )
    p.add_argument(
        "--folder-images", type=positive_int, default=1024, help="files in the folder-scoring row"
    )
    p.add_argument(
        "--device",
        default="auto",
        choices=["auto", "cpu", "cuda"],
        help="cuda: the GPU or one line saying why not (exit 2)",
    )
    p.add_argument("--no-torch", action="store_true", help="skip the torch eager comparison")
    p.set_defaults(func=run)


def _pct(ts: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(ts) * 1000, q))


def _timeit(fn, repeats: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _sample_images(given: list[Path] | None, tmp: Path) -> list[Path]:
    if given:
        from inspector.imageio import iter_image_files

        found = iter_image_files(given)[:64]
        if not found:
            from inspector.domain import DatasetError

            raise DatasetError(f"no image files in {', '.join(map(str, given))}")
        return found
    import cv2

    rng = np.random.default_rng(0)
    paths = []
    for i in range(16):  # NEU-like: 200x200 8-bit grayscale BMP
        p = tmp / f"plate_{i}.bmp"
        cv2.imwrite(str(p), rng.normal(128, 20, (200, 200)).clip(0, 255).astype(np.uint8))
        paths.append(p)
    return paths


def _folder_rate(model_dir: Path, device: str, paths: list[Path], n: int) -> float:
    """images/s of :func:`~inspector.runtime.pipeline.score_in_parallel` over ``n`` files."""
    from inspector.runtime.pipeline import folder_predictor, score_in_parallel

    pred = folder_predictor(model_dir, device=device)
    files = [paths[i % len(paths)] for i in range(n)]
    sum(1 for _ in score_in_parallel(pred, files[:64]))  # warm-up: first runs allocate
    t = time.perf_counter()
    sum(1 for _ in score_in_parallel(pred, files))
    return n / (time.perf_counter() - t)


def _torch_rows(
    model_dir: Path, x1: np.ndarray, threads: int, t_app1: list, t_ort1: list, ips32: float, n: int
) -> list[tuple[str, str]]:
    """Torch eager on the same plate, at 1 thread (as the product's ORT session) and at
    ``threads`` (as the plain session): each speed-up compares equal thread counts."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from inspector.runtime.torch_model import load_torch_model

    model, _ = load_torch_model(model_dir)
    xt = torch.from_numpy(x1)
    old = torch.get_num_threads()
    t_torch: dict[int, list[float]] = {}
    try:
        with torch.inference_mode():
            for k in sorted({1, threads}):
                torch.set_num_threads(k)
                t_torch[k] = _timeit(lambda: model(xt), max(50, n // 3))
            with FlopCounterMode(display=False) as fc:
                model(xt)
    finally:
        torch.set_num_threads(old)
    flops = fc.get_total_flops() / 1e9
    one, many = _pct(t_torch[1], 50), _pct(t_torch[threads], 50)
    rows = [
        (
            "torch eager batch-1 p50, 1 thread / " + f"{threads} threads",
            f"{one:.3f} / {many:.3f} ms",
        ),
        (
            "**ORT speed-up over torch eager** (batch-1 p50): 1 thread (product session) / "
            f"{threads} threads (plain session)",
            f"{one / _pct(t_app1, 50):.2f}x / {many / _pct(t_ort1, 50):.2f}x",
        ),
        ("FLOPs per image", f"{flops:.3f} GFLOP"),
        (
            "achieved, ORT batch-1 (product session) / batch-32",
            f"{flops / (_pct(t_app1, 50) / 1000):.1f} / {flops * ips32:.1f} GFLOP/s",
        ),
    ]
    return rows


def run(args: argparse.Namespace) -> int:
    from inspector.imageio import load_image
    from inspector.registry import default_model_dir
    from inspector.runtime.ort import OrtPredictor
    from inspector.runtime.pipeline import CHUNK, default_workers

    model_dir = Path(args.model) if args.model else default_model_dir()
    threads = args.threads or os.cpu_count() or 1
    # device="cuda" where CUDA cannot run raises ModelError: one line and exit 2 via __main__
    pred = OrtPredictor(model_dir, device=args.device, threads=threads)
    # What the window and the store's scoring open (controllers.scoring.load_predictor): one
    # intra-op thread, graphs with the batch axis fixed, so a single plate runs a batch-1 graph.
    app = OrtPredictor(model_dir, device=args.device, threads=1, static_batch=CHUNK)
    spec = pred.card.preprocessing
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmpd:
        paths = _sample_images(args.images, Path(tmpd))
        it = iter(range(10**9))

        def decode():
            return spec.apply(load_image(paths[next(it) % len(paths)]))

        t_dec = _timeit(decode, args.repeats)
        x1 = decode()[None]
        # Interleaved blocks: a load change on a shared machine hits both sessions alike.
        t_app1, t_ort1 = [], []
        block = max(1, args.repeats // 5)
        for _ in range(5):
            t_app1 += _timeit(lambda: app.logits(x1), block)
            t_ort1 += _timeit(lambda: pred.logits(x1), block)
        t_app_e2e = _timeit(lambda: app.predict_batch(decode()[None]), args.repeats)
        t_e2e = _timeit(lambda: pred.predict_batch(decode()[None]), args.repeats)
        folder_ips = _folder_rate(model_dir, args.device, paths, args.folder_images)
    x32 = np.repeat(x1, 32, axis=0)
    t_ort32 = _timeit(
        lambda: pred.logits(x32, batch_size=32), max(10, args.repeats // 10), warmup=3
    )
    ips32 = 32 / float(np.median(t_ort32))

    rows += [
        ("execution provider", f"{pred.providers[0]} ({pred.precision})"),
        ("decode + preprocess, p50", f"{_pct(t_dec, 50):.3f} ms"),
        (
            "**ORT batch-1, p50 / p95** (what predict and the window run: "
            "1 intra-op thread, batch axis fixed)",
            f"{_pct(t_app1, 50):.3f} / {_pct(t_app1, 95):.3f} ms",
        ),
        (
            "**end-to-end batch-1 (file -> probabilities), p50**, the same session",
            f"{_pct(t_app_e2e, 50):.3f} ms",
        ),
        (
            f"a plain session (dynamic batch, {threads} threads): ORT / end-to-end p50",
            f"{_pct(t_ort1, 50):.3f} / {_pct(t_e2e, 50):.3f} ms",
        ),
        ("ORT batch-32 throughput (plain session)", f"{ips32:,.0f} images/s"),
        (
            "folder scoring, files -> predictions (parallel pipeline, "
            f"{default_workers()} workers, chunk {CHUNK})",
            f"{folder_ips:,.0f} images/s",
        ),
    ]
    if not args.no_torch:
        rows += _torch_rows(model_dir, x1, threads, t_app1, t_ort1, ips32, args.repeats)
    print(
        f"model {pred.version} ({pred.card.architecture}, {spec.size}x{spec.size}x{spec.channels}) "
        f"on {pred.device} ({pred.device_reason})"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {threads} threads, "
        f"{platform.python_implementation()} {platform.python_version()}\n"
    )
    print("| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    return 0
