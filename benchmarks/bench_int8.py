"""INT8 static quantisation of a model version: speed against accuracy and trust, one table.

    python benchmarks/bench_int8.py [--model DIR] [--data NEU] [--calibration 240] [--repeats 300]

ONNX Runtime's ``quantize_static`` (QDQ, per-channel int8 weights, uint8 activations) on the
version's graph with the batch axis fixed at 1, calibrated on ``--calibration`` plates of the
training split, for a few settings (which operators, which calibration rule). Each row: ORT
batch-1 p50 at one intra-op thread (the product's session; the float graph timed interleaved
with it), NEU test top-1 errors and macro AP (NEU-CLS labels), the largest change of any class
probability against the float graph, and the share of test plates the unfamiliar output flags at
the card's threshold. A quantised model is only worth shipping if it loses no accuracy and keeps
the unfamiliar score meaningful; this script measures, it ships nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

SETTINGS = {  # name -> (operators quantised, calibration rule)
    "Conv+Add+Mul+Gemm+GAP, min-max": (
        ["Conv", "Add", "Mul", "Gemm", "GlobalAveragePool"],
        "MinMax",
    ),
    "Conv, percentile 99.99": (["Conv"], "Percentile"),
    "Conv+Add, percentile 99.99": (["Conv", "Add"], "Percentile"),
    "Conv+Add, entropy": (["Conv", "Add"], "Entropy"),
}


def _batch1(src: Path, dst: Path) -> None:
    import onnx

    m = onnx.load(str(src))
    for t in [*m.graph.input, *m.graph.output]:
        dims = t.type.tensor_type.shape.dim
        if dims and dims[0].dim_param:
            dims[0].dim_value = 1
    onnx.save(m, str(dst))


def _session(path: Path):
    import onnxruntime as ort

    o = ort.SessionOptions()
    o.intra_op_num_threads = 1
    o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])


def _outputs(sess, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    name = sess.get_inputs()[0].name
    outs = [sess.run(None, {name: xi[None]}) for xi in x]
    logits = np.concatenate([o[0] for o in outs])
    extra = np.concatenate([o[1].ravel() for o in outs]) if len(outs[0]) > 1 else None
    return logits, extra


def _p50_ms(a, b, x: np.ndarray, repeats: int) -> tuple[float, float]:
    """Interleaved batch-1 timings of two sessions (load changes hit both alike)."""
    na, nb = a.get_inputs()[0].name, b.get_inputs()[0].name
    ta, tb = [], []
    for i in range(repeats):
        xi = x[i % len(x)][None]
        t0 = time.perf_counter()
        a.run(None, {na: xi})
        t1 = time.perf_counter()
        b.run(None, {nb: xi})
        ta.append(t1 - t0)
        tb.append(time.perf_counter() - t1)
    return 1000 * float(np.median(ta)), 1000 * float(np.median(tb))


def main() -> int:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from inspector.imageio import PreprocessSpec, load_image
    from inspector.metrics import macro_ap, sigmoid
    from inspector.training.data import read_neu

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=REPO / "models" / "default")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "neu-cls")
    ap.add_argument("--calibration", type=int, default=240, help="training plates to calibrate on")
    ap.add_argument("--repeats", type=int, default=300, help="batch-1 timing runs per session")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"{args.data}: no NEU-CLS data here (this benchmark needs the real plates)")
        return 2

    card = json.loads((args.model / "card.json").read_text())
    spec = PreprocessSpec.from_dict(card["preprocessing"])
    threshold = (card.get("unfamiliar") or {}).get("threshold")
    ds = read_neu(args.data)
    train = ds.split("train")
    pick = np.random.default_rng(0).choice(len(train), args.calibration, replace=False)
    calib = np.stack([spec.apply(load_image(train[i].path)) for i in pick])
    test = ds.split("test")
    x = np.stack([spec.apply(load_image(s.path)) for s in test])
    y = np.array([s.primary for s in test])
    n_classes = len(card["classes"])

    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        _batch1(args.model / "model.onnx", tmp / "b1.onnx")
        quant_pre_process(str(tmp / "b1.onnx"), str(tmp / "pre.onnx"), skip_symbolic_shape=True)
        fp32 = _session(tmp / "b1.onnx")
        z0, u0 = _outputs(fp32, x)
        p0 = sigmoid(z0)
        input_name = fp32.get_inputs()[0].name

        def row(name: str, z: np.ndarray, u, ms: float, ref_ms: float) -> str:
            p = sigmoid(z)
            errors = int((p.argmax(1) != y).sum())
            ap_ = macro_ap(np.eye(n_classes)[y], p)
            flagged = (
                "—" if u is None or threshold is None else f"{100 * np.mean(u > threshold):.1f} %"
            )
            return (
                f"| {name} | {ms:.3f} ms ({ref_ms / ms:.2f}x) | {errors} | {ap_:.5f} | "
                f"{np.abs(p - p0).max():.3f} | {flagged} |"
            )

        print(
            f"model {card['version']}, {len(x)} NEU test plates, {args.calibration} calibration plates"
        )
        print(
            "| setting | ORT batch-1 p50, 1 thread (speed-up) | top-1 errors | macro AP | "
            "max abs change of a probability | test plates flagged unfamiliar |"
        )
        print("|---|---|---|---|---|---|")
        print(row("float32 (shipped)", z0, u0, *_p50_ms(fp32, fp32, x, args.repeats)))
        for name, (ops, method) in SETTINGS.items():

            class Reader(CalibrationDataReader):
                def __init__(self) -> None:
                    self.it = iter({input_name: c[None]} for c in calib)

                def get_next(self):
                    return next(self.it, None)

            out = tmp / "int8.onnx"
            quantize_static(
                str(tmp / "pre.onnx"),
                str(out),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=ops,
                calibrate_method=getattr(CalibrationMethod, method),
                extra_options={"ActivationSymmetric": False, "CalibPercentile": 99.99},
            )
            q = _session(out)
            z, u = _outputs(q, x)
            ref_ms, ms = _p50_ms(fp32, q, x, args.repeats)
            print(row(f"int8: {name}", z, u, ms, ref_ms), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
