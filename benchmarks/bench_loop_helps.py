"""Does the loop help? Noisy labels -> fine-tune -> top-loss proposals -> corrections -> fine-tune.

1. A workspace of the NEU train split with 5 % of its labels flipped to another class (seeded)
   plus the clean val split.
2. ``inspector train --workspace`` fine-tunes the shipped model on it: the *noisy* version.
3. The noisy version scores the workspace's train-split images; ranking them by loss against
   their (noisy) labels proposes label errors: precision@k against the flips, beside cleanlab's
   ``find_label_issues`` on the same probabilities. These probabilities are *not* out-of-sample
   for the images the noisy run trained on (cross-validated ones would take k training runs).
4. A person corrects the top-k proposals through the store (k = the number of flips).
5. A second fine-tune starts from the noisy version: the *corrected* version.
6. Test top-1 / macro AP on the NEU test split (never in any workspace): shipped, noisy, corrected.

    python benchmarks/bench_loop_helps.py --threads 2        # about 6 minutes on 2 idle cores
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inspector import metrics  # noqa: E402
from inspector.domain import NEU_CLASSES  # noqa: E402
from inspector.imageio import load_image  # noqa: E402
from inspector.paths import default_model_dir  # noqa: E402
from inspector.runtime.ort import OrtPredictor  # noqa: E402
from inspector.store import LabelStore  # noqa: E402

NEU = REPO.parent / "shared" / "data" / "neu-cls"


def _rows(split: str) -> list[tuple[Path, int]]:
    with (NEU / "SPLITS.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == split]
    return [(NEU / r["path"], NEU_CLASSES.index(Path(r["path"]).parts[0])) for r in rows]


def _probs(model_dir: Path, paths: list[Path]) -> np.ndarray:
    pred = OrtPredictor(model_dir, device="cpu", threads=2)
    spec = pred.card.preprocessing
    out = []
    for i in range(0, len(paths), 128):
        x = np.stack([spec.apply(load_image(p)) for p in paths[i : i + 128]])
        out.append(pred.predict_batch(x))
    return np.concatenate(out)


def _finetune(ws: Path, version: str, threads: int, *extra: str) -> tuple[dict, float]:
    cmd = [sys.executable, "-m", "inspector.training", "--workspace", str(ws)]
    cmd += ["--threads", str(threads), "--version", version, *extra]
    t0 = time.monotonic()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.splitlines()[-1]), time.monotonic() - t0


def _test(model_dir: Path, test: list[tuple[Path, int]]) -> tuple[float, float]:
    p = _probs(model_dir, [t[0] for t in test])
    y_idx = np.array([t[1] for t in test])
    y = np.eye(len(NEU_CLASSES), dtype=np.float32)[y_idx]
    return metrics.top1_accuracy(y_idx, p), metrics.macro_ap(y, p)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--noise", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    rng = np.random.default_rng(args.seed)
    train, val, test = _rows("train"), _rows("val"), _rows("test")
    n_flip = round(args.noise * len(train))
    flipped = set(rng.choice(len(train), n_flip, replace=False).tolist())
    given = [
        (c + 1 + int(rng.integers(len(NEU_CLASSES) - 1))) % len(NEU_CLASSES) if i in flipped else c
        for i, (_, c) in enumerate(train)
    ]
    with LabelStore.open(ws, classes=NEU_CLASSES) as store:
        ids = []
        for (path, _), g in zip(train, given, strict=True):
            ids.append(store.add_image(path))
            store.set_labels(ids[-1], [NEU_CLASSES[g]], user="noisy")
        for path, c in val:
            store.set_labels(store.add_image(path), [NEU_CLASSES[c]], user="noisy")

    noisy, t_noisy = _finetune(ws, "noisy", args.threads)
    p = _probs(Path(noisy["model_dir"]), [t[0] for t in train])
    y_given = np.eye(len(NEU_CLASSES), dtype=np.float32)[given]
    loss = metrics.per_image_bce(y_given, p)
    order = np.argsort(-loss)
    truth = np.zeros(len(train), bool)
    truth[list(flipped)] = True

    def prec_at(k: int) -> float:
        return float(truth[order[:k]].mean())

    from cleanlab.filter import find_label_issues

    p_norm = p / p.sum(1, keepdims=True)  # cleanlab wants one distribution per image
    issues = find_label_issues(np.array(given), p_norm, filter_by="prune_by_noise_rate")
    cl_prec = float(truth[issues].mean()) if issues.any() else float("nan")
    cl_rec = float(truth[issues].sum() / truth.sum())
    cl_ranked = find_label_issues(
        np.array(given), p_norm, return_indices_ranked_by="self_confidence"
    )
    cl_at_k = float(truth[cl_ranked[:n_flip]].mean())

    # A person reviews the top-k proposals and fixes the ones that are wrong.
    fixed = 0
    with LabelStore.open(ws) as store:
        for i in order[:n_flip]:
            if truth[i]:
                store.set_labels(ids[i], [NEU_CLASSES[train[i][1]]], user="reviewer")
                fixed += 1
    corrected, t_corr = _finetune(ws, "corrected", args.threads, "--from", "noisy")

    rows = [("shipped (clean labels)", default_model_dir())]
    rows += [("noisy fine-tune", Path(noisy["model_dir"]))]
    rows += [("after correcting top-k", Path(corrected["model_dir"]))]
    print(f"{n_flip} of {len(train)} train labels flipped (seed {args.seed}); workspace {ws}\n")
    print("| ranking the train split by loss (noisy version) | precision | recall |")
    print("|---|---|---|")
    for k in (n_flip // 2, n_flip, 2 * n_flip):
        print(f"| top-loss @{k} | {prec_at(k):.3f} | {truth[order[:k]].sum() / n_flip:.3f} |")
    print(f"| cleanlab self-confidence ranking @{n_flip} | {cl_at_k:.3f} | - |")
    print(
        f"| cleanlab find_label_issues ({int(issues.sum())} found) | {cl_prec:.3f} | {cl_rec:.3f} |"
    )
    print(f"\n{fixed} flips corrected through the store (the top-{n_flip} proposals reviewed)\n")
    print("| version | test top-1 | test macro AP | fine-tune wall time |")
    print("|---|---|---|---|")
    times = [None, t_noisy, t_corr]
    for (name, d), t in zip(rows, times, strict=True):
        top1, mAP = _test(d, test)
        print(f"| {name} | {100 * top1:.2f} % | {mAP:.5f} | {'' if t is None else f'{t:.0f} s'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
