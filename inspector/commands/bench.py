"""``inspector bench``: inference speed of a model version, every figure measured in one run.

Prints the execution provider that really ran (and why another was not used), then a markdown
table: decode+preprocess; ORT batch-1 p50/p95 and end-to-end batch-1 p50 of the session
``predict`` and the window open (one intra-op thread, batch axis fixed), and of a plain session
for reference; ORT batch-32 throughput; folder scoring through the parallel pipeline; torch
eager batch-1 p50 of the same weights at equal thread counts and the ORT speed-ups; FLOPs per
image and achieved GFLOP/s. Ratios are meaningful; absolute times only with the machine.

``--model A --model B`` measures several versions in one run, one column each; their batch-1
sessions are timed in interleaved blocks, so the columns compare within the same minutes.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inspector.commands.argtypes import positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure inference speed of a model version")
    p.add_argument(
        "--model",
        metavar="DIR",
        action="append",
        help="model version folder (default: the shipped model); repeat it to measure several "
        "side by side in one run",
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


@dataclass
class _Subject:
    """One model version under test: its sessions and what was measured on it."""

    model_dir: Path
    pred: Any  # the plain session (dynamic batch, ``threads`` threads)
    app: Any  # the product's session (1 thread, batch axis fixed)
    x1: np.ndarray | None = None
    decode: Any = None  # () -> one preprocessed plate, the next sample file each call
    folder_ips: float = 0.0
    t: dict[str, list[float]] = field(default_factory=dict)

    @property
    def spec(self):
        return self.pred.card.preprocessing


def run(args: argparse.Namespace) -> int:
    from inspector.imageio import load_image
    from inspector.registry import default_model_dir
    from inspector.runtime.ort import OrtPredictor
    from inspector.runtime.pipeline import CHUNK, default_workers

    dirs = [Path(m) for m in args.model] if args.model else [default_model_dir()]
    threads = args.threads or os.cpu_count() or 1
    # device="cuda" where CUDA cannot run raises ModelError: one line and exit 2 via __main__.
    # app: what the window and the store's scoring open (controllers.scoring.load_predictor):
    # one intra-op thread, graphs with the batch axis fixed, so a single plate runs batch 1.
    subjects = [
        _Subject(
            d,
            OrtPredictor(d, device=args.device, threads=threads),
            OrtPredictor(d, device=args.device, threads=1, static_batch=CHUNK),
        )
        for d in dirs
    ]
    with tempfile.TemporaryDirectory() as tmpd:
        paths = _sample_images(args.images, Path(tmpd))
        it = iter(range(10**9))
        for s in subjects:

            def decode(spec=s.spec):
                return spec.apply(load_image(paths[next(it) % len(paths)]))

            s.t["decode"] = _timeit(decode, args.repeats)
            s.x1 = decode()[None]
            s.decode = decode
        # Interleaved blocks, every session of every model in turn: a load change on a shared
        # machine hits them all alike.
        block = max(1, args.repeats // 5)
        for _ in range(5):
            for s in subjects:
                s.t.setdefault("app1", []).extend(_timeit(lambda s=s: s.app.logits(s.x1), block))
                s.t.setdefault("ort1", []).extend(_timeit(lambda s=s: s.pred.logits(s.x1), block))
        for s in subjects:
            s.t["app_e2e"] = _timeit(
                lambda s=s: s.app.predict_batch(s.decode()[None]), args.repeats
            )
            s.t["e2e"] = _timeit(lambda s=s: s.pred.predict_batch(s.decode()[None]), args.repeats)
            s.folder_ips = _folder_rate(s.model_dir, args.device, paths, args.folder_images)
    tables = []
    for s in subjects:
        x32 = np.repeat(s.x1, 32, axis=0)
        t32 = _timeit(
            lambda s=s, x32=x32: s.pred.logits(x32, batch_size=32),
            max(10, args.repeats // 10),
            warmup=3,
        )
        ips32 = 32 / float(np.median(t32))
        t_app1, t_ort1 = s.t["app1"], s.t["ort1"]
        rows = [
            ("execution provider", f"{s.pred.providers[0]} ({s.pred.precision})"),
            ("decode + preprocess, p50", f"{_pct(s.t['decode'], 50):.3f} ms"),
            (
                "**ORT batch-1, p50 / p95** (what predict and the window run: "
                "1 intra-op thread, batch axis fixed)",
                f"{_pct(t_app1, 50):.3f} / {_pct(t_app1, 95):.3f} ms",
            ),
            (
                "**end-to-end batch-1 (file -> probabilities), p50**, the same session",
                f"{_pct(s.t['app_e2e'], 50):.3f} ms",
            ),
            (
                f"a plain session (dynamic batch, {threads} threads): ORT / end-to-end p50",
                f"{_pct(t_ort1, 50):.3f} / {_pct(s.t['e2e'], 50):.3f} ms",
            ),
            ("ORT batch-32 throughput (plain session)", f"{ips32:,.0f} images/s"),
            (
                "folder scoring, files -> predictions (parallel pipeline, "
                f"{default_workers()} workers, chunk {CHUNK})",
                f"{s.folder_ips:,.0f} images/s",
            ),
        ]
        if not args.no_torch:
            rows += _torch_rows(s.model_dir, s.x1, threads, t_app1, t_ort1, ips32, args.repeats)
        tables.append(rows)
    for s in subjects:
        spec = s.spec
        print(
            f"model {s.pred.version} ({s.pred.card.architecture}, "
            f"{spec.size}x{spec.size}x{spec.channels}) on {s.pred.device} ({s.pred.device_reason})"
        )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {threads} threads, "
        f"{platform.python_implementation()} {platform.python_version()}\n"
    )
    if len(subjects) == 1:
        print("| measure | value |\n|---|---|")
    else:
        print("| measure | " + " | ".join(s.pred.version for s in subjects) + " |")
        print("|---|" + "---|" * len(subjects))
    for r, (name, _) in enumerate(tables[0]):
        print(f"| {name} | " + " | ".join(t[r][1] for t in tables) + " |")
    return 0
