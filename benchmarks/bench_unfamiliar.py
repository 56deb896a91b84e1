"""Which unfamiliar-plate score, and what it costs: ``python benchmarks/bench_unfamiliar.py``.

    python benchmarks/bench_unfamiliar.py --model DIR [--data NEU] [--per-family 60] [--repeats 300]

DIR is a model version with the unfamiliar output (``inspector calibrate`` writes one). For
each method the table gives the % of validation and NEU *test* plates flagged (goal <= 2 %),
AUROC of NEU test plates against every stand-in together and against the hardest family alone
(goal >= 0.99), and the % flagged per stand-in family (:mod:`standins`: procedural textures,
and NEU test plates under heavy synthetic change). Every method's threshold is its 0.99
quantile on the validation plates, the rule the card uses. "in-graph" rows come from ONNX
Runtime's second output (what ships); the others are fitted here in numpy on torch features.

The honest limit: the goal is about plates from *another production line*, which we do not
have; stand-ins are what we can make, and a real other line may be closer to NEU than these.

Timing: ONNX Runtime, batch 1, the same model exported with and without the second output,
interleaved runs, median; the difference is what the check adds per prediction.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import standins

from inspector.imageio import load_image
from inspector.metrics import roc_auc
from inspector.runtime.export import export_model_version
from inspector.runtime.ort import OrtPredictor
from inspector.runtime.torch_model import load_torch_model
from inspector.training.data import read_neu
from inspector.trust.scored import default_stages
from inspector.trust.unfamiliar import VAL_FLAG_RATE, fit_statistics

REPO = Path(__file__).resolve().parents[1]


@torch.no_grad()
def torch_features(model, spec, raw: np.ndarray) -> dict[str, np.ndarray]:
    """Early-stage channel means, penultimate pooled features and logits, batch by batch."""
    out: dict[str, list] = {"early": [], "penultimate": [], "logits": []}
    x = np.stack([spec.apply(r) for r in raw])
    for i in range(0, len(x), 64):
        final, inter = model.forward_intermediates(torch.from_numpy(x[i : i + 64]))
        n = default_stages(len(inter))
        out["early"].append(torch.cat([a.mean((2, 3)) for a in inter[:n]], 1).numpy())
        pre = model.forward_head(final, pre_logits=True)
        out["penultimate"].append(pre.numpy())
        out["logits"].append(model.get_classifier()(pre).numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def methods(train: dict, train_y: np.ndarray, n_classes: int) -> dict:
    """name -> function(features dict) -> scores (higher = less familiar)."""
    out = {}
    for dims in (32, 128):
        st = fit_statistics(train["penultimate"], train_y, n_classes, max_dims=dims)
        out[f"Mahalanobis, penultimate 1280-d, top {dims}"] = lambda f, st=st: st.score(
            f["penultimate"]
        )
    for dims in (64, 128):
        st = fit_statistics(train["early"], train_y, n_classes, max_dims=dims)
        out[f"Mahalanobis, early stages, top {dims}"] = lambda f, st=st: st.score(f["early"])
    out["energy (-logsumexp logits)"] = lambda f: -np.logaddexp.reduce(f["logits"], axis=1)
    out["max-logit (-max logit)"] = lambda f: -f["logits"].max(1)
    return out


def ort_scores(pred: OrtPredictor, raw: np.ndarray) -> np.ndarray:
    spec = pred.card.preprocessing
    return pred.scores(np.stack([spec.apply(r) for r in raw]))[1]


def row(name: str, val, test, families: dict, threshold: float | None = None) -> str:
    thr = np.quantile(val, 1 - VAL_FLAG_RATE) if threshold is None else threshold
    allo = np.concatenate(list(families.values()))
    auc = roc_auc(np.r_[np.zeros(len(test)), np.ones(len(allo))], np.r_[test, allo])
    worst = min(
        roc_auc(np.r_[np.zeros(len(test)), np.ones(len(v))], np.r_[test, v])
        for v in families.values()
    )
    cells = " ".join(f"{100 * np.mean(~(v <= thr)):>6.0f}" for v in families.values())
    return (
        f"{name:<44} {100 * np.mean(~(val <= thr)):>5.1f} {100 * np.mean(~(test <= thr)):>5.1f} "
        f"{auc:>6.4f} {worst:>6.4f} {cells}"
    )


def timing(model_dir: Path, repeats: int, threads: int | None) -> tuple[float, float]:
    """Median ms per batch-1 run: (logits only graph, logits + unfamiliar graph)."""
    model, card = load_torch_model(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain"
        dtype = card.training.get("weights_dtype", "float32")
        export_model_version(model, replace(card, unfamiliar={}), plain, weights_dtype=dtype)
        a = OrtPredictor(plain, device="cpu", threads=threads)
        b = OrtPredictor(model_dir, device="cpu", threads=threads)
        spec = card.preprocessing
        x = np.random.default_rng(0).normal(0, 1, (1, spec.channels, spec.size, spec.size))
        x = x.astype(np.float32)
        ta, tb = [], []
        for _ in range(20):
            a.logits(x), b.scores(x)
        for _ in range(repeats):  # interleaved: load changes hit both alike
            t0 = time.perf_counter()
            a.logits(x)
            t1 = time.perf_counter()
            b.scores(x)
            t2 = time.perf_counter()
            ta.append(t1 - t0)
            tb.append(t2 - t1)
    return 1000 * float(np.median(ta)), 1000 * float(np.median(tb))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, required=True, help="version with the unfamiliar output")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "neu-cls")
    ap.add_argument("--per-family", type=int, default=60, help="procedural images per family")
    ap.add_argument("--repeats", type=int, default=300, help="timing runs")
    ap.add_argument("--threads", type=int, default=None, help="ORT threads for the timing")
    ap.add_argument("--skip-methods", action="store_true", help="timing only")
    args = ap.parse_args()

    if not args.skip_methods:
        pred = OrtPredictor(args.model, device="cpu")
        if pred.unfamiliar_threshold is None:
            print(f"{args.model}: has no unfamiliar output (run inspector calibrate)")
            return 2
        model, card = load_torch_model(args.model)
        spec = card.preprocessing
        ds = read_neu(args.data)
        raw = {s: np.stack([load_image(x.path) for x in ds.split(s)]) for s in ("train", "val")}
        raw["test"] = np.stack([load_image(x.path) for x in ds.split("test")])
        fam = {n: standins.procedural(n, args.per_family, seed=1) for n in standins.PROCEDURAL}
        fam |= {n: standins.changed(n, raw["test"]) for n in standins.CHANGES}
        t0 = time.perf_counter()
        feats = {k: torch_features(model, spec, v) for k, v in raw.items()}
        ffeats = {k: torch_features(model, spec, v) for k, v in fam.items()}
        ytr = np.array([s.primary for s in ds.split("train")])
        print(f"features in {time.perf_counter() - t0:.0f} s; families: {len(fam)}")
        short = " ".join(f"{n.replace('NEU', '').strip()[:6]:>6}" for n in fam)
        print(f"{'method':<44} {'val%':>5} {'test%':>5} {'AUROC':>6} {'worst':>6} {short}")
        val_o, test_o = ort_scores(pred, raw["val"]), ort_scores(pred, raw["test"])
        fam_o = {k: ort_scores(pred, v) for k, v in fam.items()}
        u = card.unfamiliar
        name = f"in-graph: {u['dims']}-d early-stage Mahalanobis"
        print(row(name, val_o, test_o, fam_o, pred.unfamiliar_threshold))
        for name, fn in methods(feats["train"], ytr, len(card.classes)).items():
            print(
                row(
                    name, fn(feats["val"]), fn(feats["test"]), {k: fn(v) for k, v in ffeats.items()}
                )
            )
        print("(first six families: procedural; the rest: NEU test plates changed)")
    plain, both = timing(args.model, args.repeats, args.threads)
    print(
        f"ORT batch 1, {args.threads or 'default'} threads: logits only {plain:.3f} ms, "
        f"logits + unfamiliar {both:.3f} ms: the check adds {both - plain:+.3f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
