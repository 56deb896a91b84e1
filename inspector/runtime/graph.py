"""Check a model card against the ONNX graph it describes, once, when the model is opened.

A card that disagrees with its graph fails late and obscurely otherwise: six class names zipped
against three scores, a 3-channel tensor fed to a 1-channel stem, a 64 px input to a 48 px graph.
Dimensions the graph leaves symbolic (the batch axis) are not checked.
"""

from __future__ import annotations

from pathlib import Path

from inspector.domain import ModelError
from inspector.registry import CARD_FILE, ONNX_FILE, ModelCard
from inspector.runtime.export import INPUT_NAME, OUTPUT_NAME


def check_graph(session, card: ModelCard, model_dir: Path) -> None:
    """Raise :class:`ModelError` (one line naming ``card.json``) when card and graph disagree.

    A graph may carry a second output, the unfamiliar-plate score; it is checked only when the
    card describes it (older versions have logits alone, and a score without a threshold is
    not used).
    """
    where = f"{Path(model_dir) / CARD_FILE}"
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    if INPUT_NAME not in inputs or OUTPUT_NAME not in outputs:
        raise ModelError(
            f"{Path(model_dir) / ONNX_FILE}: expected an input {INPUT_NAME!r} and an output "
            f"{OUTPUT_NAME!r}, found {sorted(inputs)} and {sorted(outputs)}"
        )
    shape = list(inputs[INPUT_NAME].shape)
    spec = card.preprocessing
    if len(shape) != 4:
        raise ModelError(f"{where}: model.onnx takes a {len(shape)}-D input, not N×C×H×W")
    _, c, h, w = shape
    if isinstance(c, int) and c != spec.channels:
        raise ModelError(
            f"{where}: preprocessing.channels is {spec.channels} but model.onnx takes "
            f"{c} channel{'s' if c != 1 else ''}"
        )
    if isinstance(h, int) and isinstance(w, int) and (h, w) != (spec.size, spec.size):
        raise ModelError(
            f"{where}: preprocessing.size is {spec.size} but model.onnx takes {w}×{h} px"
        )
    out = list(outputs[OUTPUT_NAME].shape)
    width = out[-1] if out else None
    if len(out) != 2 or (isinstance(width, int) and width != len(card.classes)):
        raise ModelError(
            f"{where}: the card lists {len(card.classes)} classes but model.onnx outputs "
            f"{width if isinstance(width, int) else out} scores"
        )
    name = card.unfamiliar.get("output") if card.unfamiliar else None
    if name is not None:
        # A card promising a score its graph lacks would silently never flag a plate.
        if name not in outputs:
            raise ModelError(
                f"{where}: unfamiliar.output names {name!r} but model.onnx has no such output "
                f"(it has {sorted(outputs)})"
            )
        if len(outputs[name].shape) != 1:
            raise ModelError(
                f"{where}: model.onnx output {name!r} must hold one score per image, "
                f"not shape {list(outputs[name].shape)}"
            )
