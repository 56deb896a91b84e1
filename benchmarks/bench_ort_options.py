"""ONNX Runtime options on the CPU, all in ONE run: ``python benchmarks/bench_ort_options.py``.

Answers issue 13's "does it help?" questions with figures, for the model in ``--model``:

* batch 1: ``session.run`` vs ``run_with_ort_values`` (input OrtValue made once) vs an IO binding
  with a preallocated output, a graph with static shapes, 1 vs 2 intra-op threads (spinning on
  and off);
* throughput: batch 8 with a dynamic vs a static batch axis, intra-op spinning on and off;
* fused preprocessing: a graph that takes the 200x200 uint8 plate and does the INTER_AREA resize
  (as two matrix products, the exact weights OpenCV uses) and the normalisation itself, fed by
  the raw BMP decoder, against the package's decode -> ``PreprocessSpec.apply`` -> float32 graph
  (end to end, file -> logits, batch 8), and how far its probabilities move.

Every setting is timed in interleaved rounds; medians are printed. Ratios are meaningful,
absolute figures only with the machine. Nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inspector.imageio import iter_image_files, load_image  # noqa: E402
from inspector.metrics import sigmoid  # noqa: E402
from inspector.registry import check_model_dir, default_model_dir  # noqa: E402
from inspector.runtime.export import INPUT_NAME, OUTPUT_NAME  # noqa: E402

RAW = "plate_u8"


def session(model: bytes, threads: int, spin: bool = True) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])


def static_batch(model: onnx.ModelProto, n: int) -> bytes:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in (*m.graph.input, *m.graph.output):
        vi.type.tensor_type.shape.dim[0].dim_value = n
    return m.SerializeToString()


def fused(model: onnx.ModelProto, src: int, size: int, mean: float, std: float) -> bytes:
    """The model behind an in-graph Cast -> area resize (R^T @ x @ R) -> Round -> normalise."""
    # the resize is linear: OpenCV's INTER_AREA weights are the resized identity matrix
    r = cv2.resize(np.eye(src, dtype=np.float32), (size, src), interpolation=cv2.INTER_AREA)
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    inits = [
        numpy_helper.from_array(r, "pre_r"),
        numpy_helper.from_array(np.ascontiguousarray(r.T), "pre_rt"),
        numpy_helper.from_array(np.array(1.0 / 255.0 / std, np.float32), "pre_scale"),
        numpy_helper.from_array(np.array(-mean / std, np.float32), "pre_shift"),
    ]
    nodes = [
        helper.make_node("Cast", [RAW], ["pre_f"], to=TensorProto.FLOAT),
        helper.make_node("MatMul", ["pre_f", "pre_r"], ["pre_x"]),
        helper.make_node("MatMul", ["pre_rt", "pre_x"], ["pre_xy"]),
        # OpenCV rounds the resized plate to uint8; without this the inputs differ by up to
        # 0.5 grey levels and the probabilities by ~0.02
        helper.make_node("Round", ["pre_xy"], ["pre_r8"]),
        helper.make_node("Mul", ["pre_r8", "pre_scale"], ["pre_s"]),
        helper.make_node("Add", ["pre_s", "pre_shift"], [INPUT_NAME]),
    ]
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    g.initializer.extend(inits)
    del g.input[:]
    g.input.append(helper.make_tensor_value_info(RAW, TensorProto.UINT8, ["batch", 1, src, src]))
    return m.SerializeToString()


def raw_bmp(path: str) -> np.ndarray:
    """The plate as decoded uint8 (no resize): the fused graph's input."""
    return load_image(path)


def median_ms(fn, rounds: list[float]) -> None:
    t = time.perf_counter()
    fn()
    rounds.append((time.perf_counter() - t) * 1000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(default_model_dir()))
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/neu-cls"))
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    card = check_model_dir(Path(args.model))
    spec = card.preprocessing
    model = onnx.load(str(Path(args.model) / "model.onnx"))
    plain = model.SerializeToString()
    files = [str(p) for p in iter_image_files([args.data])][:256]
    for f in files:
        Path(f).read_bytes()  # warm page cache
    x1 = spec.apply(load_image(files[0]))[None]
    x8 = np.stack([spec.apply(load_image(f)) for f in files[:8]])

    s1, s2 = session(plain, 1), session(plain, 2)
    s1_static1 = session(static_batch(model, 1), 1)
    s1_static8 = session(static_batch(model, 8), 1)
    s2_static8 = session(static_batch(model, 8), 2)
    s2_nospin = session(plain, 2, spin=False)
    fused_bytes = fused(model, 200, spec.size, spec.mean[0], spec.std[0])
    sf1, sf2 = session(fused_bytes, 1), session(fused_bytes, 2)

    x1_val = ort.OrtValue.ortvalue_from_numpy(x1)
    binding = s1.io_binding()
    binding.bind_cpu_input(INPUT_NAME, x1)
    out_buf = np.empty((1, len(card.classes)), np.float32)
    binding.bind_output(OUTPUT_NAME, "cpu", 0, np.float32, out_buf.shape, out_buf.ctypes.data)

    n = 50  # calls per timed sample (batch 1) / 8 calls of 8 (throughput)

    def loop(fn, k: int = n):
        return lambda: [fn() for _ in range(k)]

    batch1 = {
        "session.run, 2 threads (ORT's default pool, spinning)": loop(
            lambda: s2.run([OUTPUT_NAME], {INPUT_NAME: x1})
        ),
        "session.run, 2 threads, no spinning": loop(
            lambda: s2_nospin.run([OUTPUT_NAME], {INPUT_NAME: x1})
        ),
        "session.run, 1 thread": loop(lambda: s1.run([OUTPUT_NAME], {INPUT_NAME: x1})),
        "run_with_ort_values, 1 thread": loop(
            lambda: s1.run_with_ort_values([OUTPUT_NAME], {INPUT_NAME: x1_val})
        ),
        "IO binding, preallocated output, 1 thread": loop(lambda: s1.run_with_iobinding(binding)),
        "static shape (batch 1), 1 thread": loop(
            lambda: s1_static1.run([OUTPUT_NAME], {INPUT_NAME: x1})
        ),
    }

    def throughput(sess, feed):
        return loop(lambda: sess.run([OUTPUT_NAME], feed), 8)

    batch8 = {
        "dynamic batch, 2 threads": throughput(s2, {INPUT_NAME: x8}),
        "dynamic batch, 2 threads, no spinning": throughput(s2_nospin, {INPUT_NAME: x8}),
        "static batch 8, 2 threads": throughput(s2_static8, {INPUT_NAME: x8}),
        "dynamic batch, 1 thread": throughput(s1, {INPUT_NAME: x8}),
        "static batch 8, 1 thread": throughput(s1_static8, {INPUT_NAME: x8}),
    }

    chunks = [files[i : i + 8] for i in range(0, 64, 8)]

    def e2e(sess, fused_input: bool):
        def go():
            for c in chunks:
                if fused_input:
                    x = np.stack([raw_bmp(f) for f in c])[:, None]
                    sess.run([OUTPUT_NAME], {RAW: x})
                else:
                    x = np.stack([spec.apply(load_image(f)) for f in c])
                    sess.run([OUTPUT_NAME], {INPUT_NAME: x})

        return go

    endtoend = {
        "decode -> PreprocessSpec.apply -> float32 graph, 1 thread": e2e(s1, False),
        "decode -> fused uint8 graph (resize + normalise in ONNX), 1 thread": e2e(sf1, True),
        "decode -> PreprocessSpec.apply -> float32 graph, 2 threads": e2e(s2, False),
        "decode -> fused uint8 graph, 2 threads": e2e(sf2, True),
    }
    groups = [
        ("batch 1, ms per call", batch1, n),
        ("batch 8, images/s", batch8, 64),
        ("end to end, 64 files in chunks of 8, images/s", endtoend, 64),
    ]
    times: dict[str, list[float]] = {k: [] for _, g, _ in groups for k in g}
    for _, g, _ in groups:
        for fn in g.values():
            fn()  # warm-up
    for _ in range(args.rounds):
        for _, g, _ in groups:
            for k, fn in g.items():
                median_ms(fn, times[k])

    raw8 = np.stack([raw_bmp(f) for f in files[:8]])[:, None]
    p_fused = sigmoid(sf2.run([OUTPUT_NAME], {RAW: raw8})[0])
    p_plain = sigmoid(s2.run([OUTPUT_NAME], {INPUT_NAME: x8})[0])
    print(
        f"model {card.version}, {spec.size} px; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores; onnxruntime {ort.__version__}; median of {args.rounds} rounds\n"
    )
    for title, g, count in groups:
        print(f"| {title} | |\n|---|---|")
        for k in g:
            med = statistics.median(times[k])
            value = (
                f"{med / count:.3f} ms"
                if title.startswith("batch 1")
                else f"{count / med * 1000:,.0f}"
            )
            print(f"| {k} | {value} |")
        print()
    print(f"fused graph vs PreprocessSpec: max |delta p| = {np.abs(p_fused - p_plain).max():.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
