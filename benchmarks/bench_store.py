"""Label-store speed on a large workspace: durable label writes and the review views' pages.

    python benchmarks/bench_store.py                       # 100,000 images, 1,000,000 events
    python benchmarks/bench_store.py --images 10000 --events 100000 --workspace /tmp/ws

Building the store is a fixture (raw executemany in big transactions, synchronous=OFF) and is
not measured. Measured, through the public LabelStore API: a label write (durable,
synchronous=FULL, with a prediction to rescore), filtered gallery pages of 200, a top-loss page
and a low-confidence queue page; opening the workspace for writing (which runs PRAGMA
quick_check first) and read-only; ``db backup`` (VACUUM INTO); and, when the NEU images are
beside the repo (or ``--import-dir`` names a folder), a full import (hash + full decode) with one
thread and with the default number. Prints a markdown table of p50/p95 against the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from inspector.domain import NEU_CLASSES, Prediction
from inspector.store import ImageFilter, LabelStore, import_probe
from inspector.store.importers import import_paths
from inspector.store.scoring import bce, doubt, mask_of

MODEL = "bench-m1"
THRESHOLDS = (0.5,) * len(NEU_CLASSES)


def build(ws: Path, n_images: int, n_events: int, seed: int = 0) -> None:
    """Fill ws with n_images images, n_events label events and one active model's predictions."""
    rng = random.Random(seed)
    with LabelStore.open(ws) as s:
        s.register_model(MODEL, classes=NEU_CLASSES, thresholds=THRESHOLDS, status="active")
        class_ids = [s._classes().by_name[c] for c in NEU_CLASSES]
        model_id = s._conn.execute("SELECT id FROM model_versions").fetchone()[0]
    conn = sqlite3.connect(ws / "inspector.db", isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    ts = "2025-01-01T00:00:00.000+00:00"
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO images (id, path, sha256, size, width, height, added_at, source, missing)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (
            (
                i,
                f"/bench/plates/{i:07d}.bmp",
                f"{rng.getrandbits(256):064x}",
                41078,
                200,
                200,
                ts,
                "bench",
                int(rng.random() < 0.01),
            )
            for i in range(1, n_images + 1)
        ),
    )
    # Label vectors: mostly one class, some two, some "no defect".
    vectors = [[c] for c in class_ids] * 6 + [[a, b] for a in class_ids for b in class_ids if a < b]
    vectors.append([])
    labelled = {i for i in range(1, n_images + 1) if rng.random() < 0.7}
    order = sorted(labelled)
    last: dict[int, list[int]] = {}
    batch = []
    for eid in range(1, n_events + 1):
        img = order[eid % len(order)] if eid <= len(order) else rng.choice(order)
        vec = rng.choice(vectors)
        last[img] = [eid, vec]
        batch.append((eid, img, "label", json.dumps(vec), "bench", "annotator", ts))
        if len(batch) == 100_000:
            conn.executemany(
                "INSERT INTO label_events (id, image_id, kind, labels, user, role,"
                " created_at) VALUES (?,?,?,?,?,?,?)",
                batch,
            )
            batch.clear()
    conn.executemany(
        "INSERT INTO label_events (id, image_id, kind, labels, user, role,"
        " created_at) VALUES (?,?,?,?,?,?,?)",
        batch,
    )
    preds, current = [], []
    for img in range(1, n_images + 1):
        probs = [rng.betavariate(0.4, 2.0) for _ in NEU_CLASSES]
        probs[rng.randrange(len(probs))] = rng.betavariate(2.0, 0.6)
        pmask = mask_of([c for c, p in zip(class_ids, probs, strict=True) if p >= 0.5])
        ev = last.get(img)
        labels = ev[1] if ev else None
        status = (
            "unlabelled"
            if ev is None
            else ("confirmed" if mask_of(labels) == pmask else "corrected")
        )
        current.append(
            (
                img,
                ev[0] if ev else None,
                None if ev is None else json.dumps(labels),
                mask_of(labels),
                status,
                int(ev is not None),
                ts,
            )
        )
        loss = None if labels is None else bce(probs, [int(c in labels) for c in class_ids])
        preds.append(
            (
                img,
                model_id,
                json.dumps(probs),
                pmask,
                max(probs),
                loss,
                doubt(probs, THRESHOLDS, band=0.1, none_over_band=0.2),
                int(ev is not None),
                "",
                ts,
            )
        )
    conn.executemany("INSERT INTO current_labels VALUES (?,?,?,?,?,?,?)", current)
    conn.executemany("INSERT INTO predictions VALUES (?,?,?,?,?,?,?,?,?,?)", preds)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def timed(fn: Callable[[int], object], n: int) -> list[float]:
    out = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def fsync_floor(folder: Path, n: int) -> list[float]:
    """Raw fdatasync of 4 KiB on the same disk: no durable write can beat this."""
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT, 0o600)
    sync = getattr(os, "fdatasync", os.fsync)
    try:
        out = []
        for _ in range(n):
            os.write(fd, b"x" * 4096)
            t = time.perf_counter()
            sync(fd)
            out.append((time.perf_counter() - t) * 1000)
        return out
    finally:
        os.close(fd)
        os.unlink(folder / "fsync-probe")


def import_rows(folder: Path, tmp: Path) -> list[tuple[str, float, float, float]]:
    """Import ``folder`` (ImageFolder) into fresh workspaces: 1 thread, then the default."""
    rows = []
    default = import_probe.workers()
    for threads in sorted({1, default}):
        import_probe.workers = lambda t=threads: t  # type: ignore[assignment]
        ws = tmp / f"import-{threads}"
        t0 = time.perf_counter()
        with LabelStore.open(ws) as s:
            report = import_paths(s, [folder], user="bench")
        ms = (time.perf_counter() - t0) * 1000
        rate = report.files / (ms / 1000)
        name = f"import {report.files:,} images, full decode, {threads} thread(s): {rate:.0f}/s"
        rows.append((name, ms, ms, 60_000))
    import_probe.workers = lambda: default  # type: ignore[assignment]
    return rows


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--writes", type=int, default=300, help="label writes to time")
    ap.add_argument("--pages", type=int, default=100, help="pages to time per query")
    ap.add_argument("--workspace", help="build here (default: a temporary folder, deleted)")
    neu = Path(__file__).resolve().parents[2] / "shared" / "data" / "neu-cls"
    ap.add_argument(
        "--import-dir",
        type=Path,
        default=neu if neu.is_dir() else None,
        help="an ImageFolder tree to time imports on (default: ../shared/data/neu-cls if present)",
    )
    args = ap.parse_args()

    tmp = None if args.workspace else tempfile.TemporaryDirectory(prefix="bench-store-")
    ws = Path(args.workspace or tmp.name) / "ws"  # type: ignore[union-attr]
    t0 = time.perf_counter()
    build(ws, args.images, args.events)
    build_s = time.perf_counter() - t0
    rng = random.Random(1)
    rows = []
    with LabelStore.open(ws) as s:

        def write(i: int) -> None:
            img = rng.randrange(1, args.images + 1)
            probs = tuple(rng.random() for _ in NEU_CLASSES)
            s.set_labels(
                img,
                [rng.choice(NEU_CLASSES)],
                user="bench",
                reason="bench",
                seen=Prediction(
                    f"/bench/plates/{img:07d}.bmp", NEU_CLASSES, probs, THRESHOLDS, MODEL
                ),
            )

        filters = [
            ImageFilter(label="crazing", status="corrected"),
            ImageFilter(predicted="scratches", status="unlabelled"),
            ImageFilter(prob_class="patches", prob_min=0.4, prob_max=0.6),
        ]
        cases = [
            ("label write (durable, set_labels)", 5, lambda i: write(i), args.writes),
            (
                "page of 200: label=crazing & status=corrected",
                30,
                lambda i: s.page(filters[0], limit=200, offset=200 * (i % 10)),
                args.pages,
            ),
            (
                "page of 200: predicted=scratches & unlabelled",
                30,
                lambda i: s.page(filters[1], limit=200, offset=200 * (i % 10)),
                args.pages,
            ),
            (
                "page of 200: P(patches) in [0.4, 0.6]",
                30,
                lambda i: s.page(filters[2], limit=200, offset=200 * (i % 10)),
                args.pages,
            ),
            (
                "top-loss page of 200",
                50,
                lambda i: s.top_losses(limit=200, offset=200 * (i % 10)),
                args.pages,
            ),
            (
                "low-confidence page of 200",
                50,
                lambda i: s.low_confidence(limit=200, offset=200 * (i % 10)),
                args.pages,
            ),
        ]
        for name, target, fn, n in cases:
            fn(0)  # warm the page cache once, as a running app would have it
            xs = timed(fn, n)
            rows.append((name, pct(xs, 50), pct(xs, 95), target))
        xs = fsync_floor(ws, args.writes)
        rows.insert(
            1, ("(disk floor: raw 4 KiB fdatasync, same disk)", pct(xs, 50), pct(xs, 95), 5)
        )
        counts = s.counts()
        size = s.path.stat().st_size
        backup_to = ws.parent / "backup" / "copy.db"
        xs = timed(lambda i: s.backup(backup_to), 2)
        rows.append(("db backup (VACUUM INTO, one snapshot)", pct(xs, 50), pct(xs, 95), 10_000))
        backup_to.unlink()
    xs = timed(lambda i: LabelStore.open(ws).close(), 3)
    rows.append(("open for writing (runs PRAGMA quick_check)", pct(xs, 50), pct(xs, 95), 2000))
    xs = timed(lambda i: LabelStore.open(ws, read_only=True).close(), 3)
    rows.append(("open read-only (db check, backup, export)", pct(xs, 50), pct(xs, 95), 50))
    if args.import_dir is not None:
        rows += import_rows(args.import_dir, ws.parent)
    print(
        f"\nLabel store benchmark: {counts['images']:,} images, {counts['label events']:,} label"
        f" events, {counts['predictions']:,} predictions; database {size / 1e6:.0f} MB"
        f" (built in {build_s:.0f} s)\n"
    )
    print(f"Machine: {machine()}\n")
    print("| operation | p50 ms | p95 ms | target p95 ms | ok |")
    print("|---|---:|---:|---:|:---:|")
    for name, p50, p95, target in rows:
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {target} | {'yes' if p95 <= target else 'NO'} |")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
