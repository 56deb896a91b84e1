"""Backbone/input-size candidates: ORT CPU batch-1 latency, FLOPs and file size, in one run.

``python benchmarks/compare_backbones.py [--threads 2]`` exports each candidate (untrained
weights: latency does not depend on their values) and prints a table. Accuracy comes from
training runs (see README); this script measures the costs that decide what can ship.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from inspector.imageio import PreprocessSpec
from inspector.registry import ModelCard
from inspector.runtime.export import export_model_version
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.torch_model import build_model

CANDIDATES = [
    ("mobilenetv3_small_100", 200),
    ("mobilenetv3_small_100", 160),
    ("mobilenetv3_large_100", 200),
    ("tf_efficientnet_lite0", 200),
    ("tf_efficientnet_lite0", 160),
    ("tf_efficientnet_lite0", 128),
    ("resnet10t", 128),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    print(f"{os.cpu_count()} cores, ORT threads {args.threads}\n")
    print("| backbone | input | GFLOP | ONNX MB | ORT batch-1 p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for arch, size in CANDIDATES:
            model = build_model(arch, 6, 1).eval()
            with FlopCounterMode(display=False) as fc, torch.no_grad():
                model(torch.zeros(1, 1, size, size))
            card = ModelCard(
                f"{arch}-{size}", arch, tuple("abcdef"), PreprocessSpec(size=size), (0.5,) * 6
            )
            out, _ = export_model_version(model, card, Path(tmp) / f"{arch}-{size}")
            pred = OrtPredictor(out, device="cpu", threads=args.threads)
            x = np.random.default_rng(0).normal(0, 1, (1, 1, size, size)).astype(np.float32)
            for _ in range(20):
                pred.logits(x)
            ts = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                pred.logits(x)
                ts.append((time.perf_counter() - t) * 1000)
            mb = (out / "model.onnx").stat().st_size / 2**20
            print(
                f"| {arch} | {size} | {fc.get_total_flops() / 1e9:.3f} | {mb:.1f} | "
                f"{np.percentile(ts, 50):.2f} | {np.percentile(ts, 95):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
