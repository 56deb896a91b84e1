"""Folder scoring throughput: ``python benchmarks/bench_folder.py [--data DIR] [--model DIR]``.

Scores every image under ``--data`` (default: the NEU-CLS folder, 1,800 BMPs) with several
settings in ONE run, rounds interleaved, and prints images/s per setting (median of the rounds):
the old sequential ``predict_paths``, :func:`inspector.runtime.pipeline.score_in_parallel` with
1-2 workers x 1-2 ORT intra-op threads, chunk 8/32, dynamic or static batch, and the store's job
(:func:`inspector.controllers.scoring.score_paths`, predictions written to a temporary
workspace). The target: >= 600 images/s into the store on 2 cores. Ratios are meaningful;
absolute figures only with the machine. On a busy shared machine the wall-clock rate measures
the other jobs too; images per CPU-second (this process's CPU time, all threads) says what the
work itself costs, and 2 cores can at best do twice that.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.imageio import PreprocessSpec, iter_image_files, load_image  # noqa: E402
from inspector.registry import default_model_dir  # noqa: E402
from inspector.runtime.ort import OrtPredictor  # noqa: E402
from inspector.runtime.pipeline import CHUNK, score_in_parallel  # noqa: E402


def _rate(fn, n: int) -> tuple[float, float]:
    """(images per wall second, images per CPU second of this process, all its threads)."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return n / (time.perf_counter() - t), n / (time.process_time() - c)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/neu-cls"))
    ap.add_argument("--model", default=str(default_model_dir()))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=1800, help="images per measurement")
    args = ap.parse_args()

    files = [str(p) for p in iter_image_files([args.data])][: args.limit]
    n = len(files)
    sessions = {t: OrtPredictor(args.model, device="cpu", threads=t) for t in (1, 2)}
    static = OrtPredictor(args.model, device="cpu", threads=1, static_batch=CHUNK)
    spec: PreprocessSpec = sessions[1].card.preprocessing
    for f in files:  # page cache warm: the disk is not what is measured
        Path(f).read_bytes()

    def decode_all() -> None:
        for f in files:
            spec.apply(load_image(f))

    def sequential(pred, bs: int):
        return lambda: sum(1 for _ in pred.predict_paths(files, batch_size=bs))

    def parallel(pred, w: int, c: int = CHUNK):
        return lambda: sum(1 for _ in score_in_parallel(pred, files, chunk=c, workers=w))

    cases = {
        "decode + preprocess only (1 thread)": decode_all,
        "old code path: sequential predict_paths, 2 intra-op threads, batch 32": sequential(
            sessions[2], 32
        ),
        "parallel, 1 worker x 2 intra-op threads, dynamic batch, chunk 8": parallel(
            sessions[2], 1, 8
        ),
        "parallel, 2 workers x 2 intra-op threads, dynamic batch, chunk 8": parallel(
            sessions[2], 2, 8
        ),
        "parallel, 2 workers x 1 intra-op thread, dynamic batch, chunk 32": parallel(
            sessions[1], 2, 32
        ),
        "parallel, 2 workers x 1 intra-op thread, dynamic batch, chunk 8": parallel(
            sessions[1], 2, 8
        ),
        f"parallel, 1 worker x 1 intra-op thread, static batch {CHUNK}": parallel(static, 1),
        f"parallel, 2 workers x 1 intra-op thread, static batch {CHUNK} (shipped: predict)": (
            parallel(static, 2)
        ),
    }

    with tempfile.TemporaryDirectory() as tmp:
        from inspector import jobs
        from inspector.controllers.labels import LabelService
        from inspector.controllers.scoring import score_paths

        service = LabelService.open(Path(tmp) / "ws", "bench", "inspector")
        pred = static
        service.register_model(pred.version, pred.classes, pred.thresholds, args.model)

        def into_store(workers: int):
            return lambda: jobs.run(score_paths(pred, files, service, workers=workers))

        store = f"into the store: score_paths, static {CHUNK}, workers at nice +10"
        cases[f"{store}, 2 workers (headless default)"] = into_store(2)
        cases[f"{store}, 1 worker (the window's setting)"] = into_store(1)
        rates: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
        for fn in cases.values():
            fn()  # warm-up: ORT's first runs allocate
            break
        for _ in range(args.rounds):
            for name, fn in cases.items():
                rates[name].append(_rate(fn, n))
        service.close()

    print(
        f"{n} images from {args.data}; model {sessions[1].version}; machine: "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"median of {args.rounds} interleaved rounds\n"
    )
    print("| setting | images/s | images per CPU-second |\n|---|---|---|")
    for name, r in rates.items():
        wall = statistics.median(x for x, _ in r)
        cpu = statistics.median(y for _, y in r)
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
