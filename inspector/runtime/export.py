"""torch -> model version folder: ONNX (dynamic batch) + safetensors + card.json, with a parity check.

Used by training (and by hand)::

    model_dir, parity_diff = export_model_version(model, card, Path("runs/a/model"))

The ONNX graph outputs **logits** ("logits"); the sigmoid is applied by :class:`OrtPredictor`
in numpy. Given ``outputs=`` (a module around the model returning ``(logits, score)``, built by
:mod:`inspector.trust`), the graph has a second output, the unfamiliar-plate score, computed in
the same run; the safetensors file still holds the model alone. Keeping the sigmoid out of the graph keeps the parity check sharp (probabilities near
0 or 1 hide differences) and lets SHAP explain logits, the additive quantity.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inspector.atomic import replace_dir
from inspector.domain import ModelError
from inspector.metrics import sigmoid
from inspector.registry import CARD_FILE, ONNX_FILE, WEIGHTS_FILE, ModelCard, write_card

if TYPE_CHECKING:
    import torch

INPUT_NAME = "input"
OUTPUT_NAME = "logits"
PARITY_ATOL = 1e-4
#: The unfamiliar score is a distance (no sigmoid to squash it): compare relative to its size.
PARITY_SCORE_RTOL = 1e-3


class ParityError(ModelError):
    """ONNX Runtime and torch disagree on the same input: the export is not trustworthy."""


def export_onnx(
    model: torch.nn.Module,
    path: Path,
    size: int,
    channels: int,
    output_names: tuple[str, ...] = (OUTPUT_NAME,),
) -> None:
    """Write an ONNX graph with a dynamic batch axis (legacy TorchScript exporter).

    ``model`` returns one tensor per name in ``output_names``, each batch-first.

    The TorchScript exporter is used on purpose: it is deterministic, needs no onnxscript at run
    time and produced graphs ORT optimises fully here; the dynamo exporter gave identical outputs.
    """
    import torch

    model = model.eval().float()
    x = torch.zeros(2, channels, size, size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation chatter from the legacy exporter
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(
            model,
            (x,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=list(output_names),
            dynamic_axes={INPUT_NAME: {0: "batch"}, **{n: {0: "batch"} for n in output_names}},
            opset_version=17,
            dynamo=False,
        )


def parity_check(
    model: torch.nn.Module, onnx_path: Path, x: np.ndarray, score_name: str | None = None
) -> tuple[float, float | None]:
    """(max |p_torch - p_ort|, max relative score difference or None) over a batch.

    ``model`` returns logits, or ``(logits, score)`` when ``score_name`` names the graph's
    second output. Raise :class:`ParityError` over ``PARITY_ATOL`` / ``PARITY_SCORE_RTOL``.
    """
    import onnxruntime as ort
    import torch

    with torch.no_grad():
        out = model.eval()(torch.from_numpy(x))
    logits_t, score_t = (out[0], out[1].numpy()) if score_name else (out, None)
    pt = torch.sigmoid(logits_t).numpy()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    names = [OUTPUT_NAME, score_name] if score_name else [OUTPUT_NAME]
    ran = sess.run(names, {INPUT_NAME: x})
    diff = float(np.abs(pt - sigmoid(ran[0])).max())
    if not diff <= PARITY_ATOL:
        raise ParityError(f"ONNX and torch probabilities differ by {diff:.2e} (> {PARITY_ATOL})")
    if score_t is None:
        return diff, None
    rel = float((np.abs(score_t - ran[1]) / np.maximum(1.0, np.abs(score_t))).max())
    if not rel <= PARITY_SCORE_RTOL:
        raise ParityError(
            f"ONNX and torch unfamiliar scores differ by {rel:.2e} relative (> {PARITY_SCORE_RTOL})"
        )
    return diff, rel


def save_weights(model: torch.nn.Module, path: Path, dtype: str = "float32") -> None:
    """safetensors, no pickle. ``dtype="float16"`` halves the file; loading upcasts again."""
    from safetensors.torch import save_file

    half = dtype == "float16"
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
        for k, v in model.state_dict().items()
    }
    save_file(state, str(path), metadata={"format": "pt", "dtype": dtype})


def round_weights_to_half(model: torch.nn.Module) -> None:
    """Round every float tensor to the nearest float16 value, in place (still stored as float32).

    Exporting ONNX *after* this makes the ONNX graph and the float16 safetensors file describe
    exactly the same function, so the parity check stays at float32 round-off.
    """
    import torch

    with torch.no_grad():
        for v in model.state_dict().values():
            if v.is_floating_point():
                v.copy_(v.half().float())


def export_model_version(
    model: torch.nn.Module,
    card: ModelCard,
    out_dir: Path,
    parity_inputs: np.ndarray | None = None,
    weights_dtype: str = "float32",
    outputs: torch.nn.Module | None = None,
) -> tuple[Path, float]:
    """Write a complete model version folder atomically; return (folder, parity max diff).

    ``parity_inputs`` (N, C, H, W float32, already preprocessed) should be real images; random
    noise is used when none are given. ``weights_dtype="float16"`` rounds the weights to float16
    first (the shipped model must fit in 20 MiB); the card records it. ``outputs`` (a module
    around ``model`` returning ``(logits, score)``) is exported instead of ``model``, with the
    score as the graph output ``card.unfamiliar["output"]``; the parity check covers both.
    """
    import torch

    score_name = card.unfamiliar.get("output") if card.unfamiliar else None
    if (outputs is None) != (score_name is None):
        raise ModelError(
            "export: the card's unfamiliar object and the two-output module go together "
            f"(card names {score_name!r}, module {'given' if outputs else 'missing'})"
        )
    spec = card.preprocessing
    model = model.to("cpu").float().eval()
    if weights_dtype == "float16":
        round_weights_to_half(model)
    elif weights_dtype != "float32":
        raise ValueError(f"weights_dtype must be float32 or float16, not {weights_dtype!r}")
    if parity_inputs is None:
        rng = np.random.default_rng(0)
        parity_inputs = rng.normal(0, 1, (4, spec.channels, spec.size, spec.size))
    parity_inputs = np.ascontiguousarray(parity_inputs, dtype=np.float32)

    out_dir = Path(out_dir)
    refuse_foreign_target(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as exc:
        raise _write_error(out_dir, exc) from None
    try:
        graph = model if outputs is None else outputs.to("cpu").float().eval()
        names = (OUTPUT_NAME,) if score_name is None else (OUTPUT_NAME, score_name)
        with torch.no_grad():
            export_onnx(graph, staging / ONNX_FILE, spec.size, spec.channels, names)
        diff, score_diff = parity_check(graph, staging / ONNX_FILE, parity_inputs, score_name)
        save_weights(model, staging / WEIGHTS_FILE, weights_dtype)
        metrics = dict(card.metrics)
        metrics["onnx_parity_max_abs_diff"] = diff
        if score_diff is not None:
            metrics["onnx_parity_unfamiliar_max_rel_diff"] = score_diff
        training = {**card.training, "weights_dtype": weights_dtype}
        write_card(staging, replace(card, metrics=metrics, training=training))
        # mkdtemp/mkstemp create owner-only files; a model folder is shared read-only data.
        staging.chmod(0o755)
        for f in staging.iterdir():
            f.chmod(0o644)
        return replace_dir(staging, out_dir), diff
    except OSError as exc:  # a full disk, a read-only folder, a file size limit
        shutil.rmtree(staging, ignore_errors=True)
        raise _write_error(out_dir, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


#: What a model version folder may hold (background.npz: explain.background.BACKGROUND_FILE, a
#: layer above this one); publishing replaces such a folder as a whole.
MODEL_FOLDER_FILES = frozenset({CARD_FILE, ONNX_FILE, WEIGHTS_FILE, "background.npz"})


def refuse_foreign_target(out_dir: Path) -> None:
    """ModelError unless ``out_dir`` is new, empty, or a model version folder.

    Publishing renames the old folder away and deletes it: pointed at ``~/Documents`` that
    would delete the user's files, so a folder holding anything else is never replaced.
    """
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not out_dir.is_dir() or out_dir.is_symlink():
        raise ModelError(f"{out_dir}: exists and is not a folder; choose a new folder for --out")
    try:
        names = sorted(p.name for p in out_dir.iterdir())
    except OSError as exc:
        raise _write_error(out_dir, exc) from None
    foreign = [n for n in names if n not in MODEL_FOLDER_FILES]
    if foreign or (names and CARD_FILE not in names):
        shown = ", ".join((foreign or names)[:3])
        raise ModelError(
            f"{out_dir}: exists and is not a model version folder (it holds {shown}); "
            "it is left untouched: choose a new or empty folder"
        )


def _write_error(out_dir: Path, exc: OSError) -> ModelError:
    return ModelError(f"{out_dir}: cannot write the model version ({exc.strerror or exc})")
