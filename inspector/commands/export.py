"""``inspector export model RUN_OR_CHECKPOINT --out DIR`` (and ``inspector export data``, the store's).

``model`` re-exports a trained run (its best checkpoint + the card written at the end of training)
to a model version folder: ONNX with a parity check against torch, safetensors, card.json. The
unfamiliar-plate statistics, which only the source's ONNX graph holds, are read back from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a model version, or the workspace's labels")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    m = kinds.add_parser(
        "model", help="run folder or model folder -> ONNX + safetensors + card.json"
    )
    m.add_argument(
        "source", type=Path, help="a training run folder (runs/x) or a model version folder"
    )
    m.add_argument("--out", type=Path, required=True, help="model version folder to write")
    m.add_argument("--version", help="new version id (default: keep the source's)")
    m.add_argument(
        "--half-weights",
        action="store_true",
        help="round weights to float16 (halves weights.safetensors; the default model uses it)",
    )
    m.set_defaults(func=run_model)
    from inspector.commands import data_export as data

    d = kinds.add_parser("data", help="labels and history: ImageFolder, CSV or JSON lines")
    data.add_arguments(d)
    d.set_defaults(func=data.run)


def run_model(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from inspector.domain import ModelError
    from inspector.registry import read_card
    from inspector.runtime.export import export_model_version, refuse_foreign_target
    from inspector.runtime.torch_model import load_torch_model

    src = args.source / "model" if (args.source / "model" / "card.json").is_file() else args.source
    if args.out.resolve() == src.resolve():
        # Publishing replaces --out as a whole: the source's other files would go with it.
        raise ModelError(f"{args.out}: is the model being exported; choose another --out")
    refuse_foreign_target(args.out)  # before the slow part: torch, ONNX export, parity check
    model, card = load_torch_model(src)
    if args.version:
        card = replace(card, version=args.version, parent=read_card(src).version)
    dtype = "float16" if args.half_weights else "float32"
    outputs, note = None, ""
    if card.unfamiliar:
        # The statistics live only in the source's ONNX graph: read them back from there.
        from inspector.registry import ONNX_FILE
        from inspector.trust.scored import ScoredModel, check_against_graph, stats_from_graph

        spec = card.preprocessing
        try:
            stats = stats_from_graph(src / ONNX_FILE, model, len(card.classes), spec.channels)
            outputs = ScoredModel(model, stats)
            check_against_graph(src / ONNX_FILE, outputs, (spec.channels, spec.size, spec.size))
        except ModelError as exc:
            outputs, card = None, replace(card, unfamiliar={})
            note = f"note: without the unfamiliar-plate score ({exc}); run `inspector calibrate`"
    out, diff = export_model_version(model, card, args.out, weights_dtype=dtype, outputs=outputs)
    print(f"exported {card.version} to {out} (ONNX vs torch max |Δp| = {diff:.1e})")
    if note:
        print(note)
    return 0
